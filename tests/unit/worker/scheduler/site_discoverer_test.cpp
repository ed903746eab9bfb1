// The site discoverer: how a job's options become a crawl, how a crawl's
// result is recorded, and discover_one end to end against PostgreSQL and a
// loopback test site (allowed_networks = 127.0.0.1/32; an "internal" site on
// 127.0.0.2 stands for an address the policy refuses).
#include "scheduler/site_discoverer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "../crawl/site_server.h"
#include "../db/pg_fixture.h"
#include "auth/api_keys.h"
#include "db/job_repository.h"
#include "db/key_repository.h"
#include "db/session.h"
#include "util/ids.h"

using namespace enconvert;
using crawl::testing::SiteResponse;
using crawl::testing::SiteServer;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

db::DiscoveryJob job_with(json options) {
    db::DiscoveryJob j;
    j.job_id = "batch_1";
    j.endpoint = "website-to-pdf";
    j.start_url = "https://example.com/docs/";
    j.options = std::move(options);
    j.options["url"] = j.start_url;
    j.attempts = 1;
    return j;
}

scheduler::DiscovererOptions budgets(int page_seconds, int total_seconds) {
    scheduler::DiscovererOptions o;
    o.page_budget = std::chrono::seconds(page_seconds);
    o.total_budget = std::chrono::seconds(total_seconds);
    return o;
}

crawl::CrawlResult result(std::vector<std::string> urls, std::string method = "sitemap") {
    crawl::CrawlResult r;
    r.urls = std::move(urls);
    r.method = std::move(method);
    r.total_discovered = r.urls.size();
    return r;
}

crawl::CrawlResult error(const std::string& code, const std::string& sentence) {
    crawl::CrawlResult r;
    r.method = "full_crawl";
    r.error_code = code;
    r.error = sentence;
    return r;
}

std::string page(const std::string& title, const std::vector<std::string>& links) {
    std::string body = "<!doctype html><html><head><title>" + title + "</title></head><body>";
    for (const auto& l : links) body += "<a href=\"" + l + "\">" + l + "</a>\n";
    return body + "</body></html>";
}

}  // namespace

TEST(SiteDiscovererOptions, CrawlModes) {
    const auto mode = [](json options) {
        return scheduler::crawl_options_for(job_with(std::move(options)), budgets(15, 60)).mode;
    };
    EXPECT_EQ(mode({{"crawl_mode", "sitemap"}}), crawl::CrawlMode::sitemap);
    EXPECT_EQ(mode({{"crawl_mode", "full"}}), crawl::CrawlMode::full);
    EXPECT_EQ(mode({{"crawl_mode", "auto"}}), crawl::CrawlMode::automatic);
    EXPECT_EQ(mode(json::object()), crawl::CrawlMode::automatic);
    EXPECT_EQ(mode({{"crawl_mode", nullptr}}), crawl::CrawlMode::automatic);
    EXPECT_EQ(mode({{"crawl_mode", 3}}), crawl::CrawlMode::automatic);
}

TEST(SiteDiscovererOptions, CredentialsAreNoted) {
    const auto carries = [](json options) {
        return scheduler::crawl_options_for(job_with(std::move(options)), budgets(15, 60))
            .carries_credentials;
    };
    EXPECT_FALSE(carries(json::object()));
    EXPECT_FALSE(
        carries({{"auth", nullptr}, {"headers", json::object()}, {"cookies", json::array()}}));
    EXPECT_TRUE(carries({{"auth", {{"username", "u"}, {"password", "p"}}}}));
    EXPECT_TRUE(carries({{"headers", {{"X-Token", "t"}}}}));
    EXPECT_TRUE(carries({{"cookies", {{{"name", "s"}, {"value", "v"}}}}}));
}

TEST(SiteDiscovererOptions, LimitsPatternsAndBudgets) {
    const json options = {{"crawl_mode", "full"},
                          {"max_pages", 25},
                          {"max_depth", 1},
                          {"include_patterns", {"^/docs/", "^/blog/"}},
                          {"exclude_patterns", {"/draft"}},
                          {"image_format", "png"}};
    const crawl::CrawlOptions c = scheduler::crawl_options_for(job_with(options), budgets(7, 45));
    EXPECT_EQ(c.start_url, "https://example.com/docs/");
    EXPECT_EQ(c.max_pages, 25u);
    EXPECT_EQ(c.max_depth, 1);
    EXPECT_EQ(c.include_patterns, (std::vector<std::string>{"^/docs/", "^/blog/"}));
    EXPECT_EQ(c.exclude_patterns, (std::vector<std::string>{"/draft"}));
    EXPECT_EQ(c.page_budget, 7s);
    EXPECT_EQ(c.total_budget, 45s);
    EXPECT_EQ(scheduler::crawl_options_for(job_with(options), budgets(15, 60)).total_budget, 60s);
}

TEST(SiteDiscovererOptions, DefaultsWhenAbsentOrUnusable) {
    const crawl::CrawlOptions defaults;
    crawl::CrawlOptions c = scheduler::crawl_options_for(job_with(json::object()), budgets(15, 60));
    EXPECT_EQ(c.max_pages, defaults.max_pages);
    EXPECT_EQ(c.max_depth, defaults.max_depth);
    EXPECT_TRUE(c.include_patterns.empty());
    EXPECT_TRUE(c.exclude_patterns.empty());  // the crawler's defaults apply
    EXPECT_FALSE(c.exclude_given);
    // An old row with odd types: the defaults, not an exception.
    c = scheduler::crawl_options_for(job_with({{"max_pages", "many"},
                                               {"max_depth", json::array()},
                                               {"include_patterns", "^/docs/"},
                                               {"exclude_patterns", {1, 2}}}),
                                     budgets(15, 60));
    EXPECT_EQ(c.max_pages, defaults.max_pages);
    EXPECT_EQ(c.max_depth, defaults.max_depth);
    EXPECT_TRUE(c.include_patterns.empty());
    EXPECT_TRUE(c.exclude_patterns.empty());
    EXPECT_FALSE(c.exclude_given);
}

TEST(SiteDiscovererOptions, AnEmptyExcludeListTurnsTheDefaultsOff) {
    const crawl::CrawlOptions c = scheduler::crawl_options_for(
        job_with({{"exclude_patterns", json::array()}}), budgets(15, 60));
    EXPECT_TRUE(c.exclude_patterns.empty());
    EXPECT_TRUE(c.exclude_given);
}

TEST(SiteDiscovererOutcome, FoundPagesAreRecordedAsTheyAre) {
    crawl::CrawlResult r = result({"https://example.com/", "https://example.com/a"}, "full_crawl");
    r.total_discovered = 9;
    r.truncated = true;
    const db::DiscoveryOutcome o = scheduler::outcome_of(r);
    EXPECT_EQ(o.urls, r.urls);
    EXPECT_EQ(o.method, "full_crawl");
    EXPECT_EQ(o.total_discovered, 9);
    EXPECT_TRUE(o.truncated);
    EXPECT_TRUE(o.error_code.empty());
    EXPECT_TRUE(o.error.empty());
}

TEST(SiteDiscovererOutcome, TheSitesOwnReasonsAreKept) {
    for (const std::string code : {"no_sitemap", "no_pages", "invalid_url"}) {
        const db::DiscoveryOutcome o = scheduler::outcome_of(error(code, "Why: " + code + "."));
        EXPECT_TRUE(o.urls.empty()) << code;
        EXPECT_EQ(o.error_code, code);
        EXPECT_EQ(o.error, "Why: " + code + ".");
        EXPECT_EQ(o.method, "full_crawl");
    }
}

TEST(SiteDiscovererOutcome, AnythingElseIsOurs) {
    for (const std::string code :
         {"cancelled", "invalid_options", "invalid_pattern", "internal_error", "something_new"}) {
        crawl::CrawlResult r = error(code, "It went wrong.");
        r.urls = {"https://example.com/"};  // pages found before it went wrong
        const db::DiscoveryOutcome o = scheduler::outcome_of(r);
        EXPECT_EQ(o.error_code, "internal_error") << code;
        EXPECT_EQ(o.error, "It went wrong.") << code;
        EXPECT_TRUE(o.urls.empty()) << code;
    }
}

TEST(SiteDiscovererOutcome, NoPagesAtAllIsNoPages) {
    const db::DiscoveryOutcome o = scheduler::outcome_of(result({}, "full_crawl"));
    EXPECT_TRUE(o.urls.empty());
    EXPECT_EQ(o.error_code, "no_pages");
    EXPECT_FALSE(o.error.empty());
}

namespace {

// A small site on 127.0.0.1: a start page linking to three pages, one of
// them two levels down, and to the "internal" site; no robots.txt; a
// sitemap only when `with_sitemap`.
class SiteDiscovererTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        key_ = db::create_key(*conn_, "acme", auth::key_hash_hex(auth::generate_api_key()),
                              "sk_live_acme");
    }

    SiteResponse serve(const std::string& path) {
        if (path == "/") {
            return {200, "text/html", page("home", {"/about", "/docs/", internal_.url("/secret")})};
        }
        if (path == "/about") return {200, "text/html", page("about", {"/"})};
        if (path == "/docs/") {
            return {200, "text/html", page("docs", {"/docs/getting-started.html"})};
        }
        if (path == "/docs/getting-started.html") {
            return {200, "text/html", page("start", {"/docs/"})};
        }
        if (path == "/sitemap.xml" && with_sitemap_) {
            return {200, "application/xml",
                    "<?xml version=\"1.0\"?><urlset "
                    "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                    "<url><loc>" +
                        site_.url("/docs/getting-started.html") + "</loc></url><url><loc>" +
                        site_.url("/about") + "</loc></url></urlset>"};
        }
        return {404, "text/plain", "not here"};
    }

    std::string insert_website(const std::string& start, json options) {
        db::NewJob j;
        j.id = util::new_job_id(true);
        j.account_id = key_.account_id;
        j.api_key_id = key_.key_id;
        j.endpoint = "website-to-pdf";
        j.is_batch = true;
        j.options = std::move(options);
        j.options["url"] = start;
        j.options["output_format"] = "zip";
        j.callback_url = "https://hooks.example.com/done";
        j.base_url = "https://api.example.com";
        j.discover = true;
        return db::insert_job(*conn_, j).job_id;
    }

    scheduler::DiscovererOptions options() const {
        scheduler::DiscovererOptions o;
        o.database_url = url();
        o.worker_id = "discoverer-1";
        o.allowed_networks = "127.0.0.1/32";
        o.page_budget = 5s;
        o.total_budget = 20s;
        o.max_attempts = 3;
        o.poll_interval = 60s;  // only a NOTIFY (or the first look) finds work
        return o;
    }

    db::JobView job(const std::string& id) { return *db::load_job(*conn_, id, key_.account_id); }

    std::vector<std::string> task_urls(const std::string& id) {
        std::vector<std::string> out;
        for (const auto& t : job(id).tasks) out.push_back(t.url);
        return out;
    }

    long long count(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec(sql)[0][0].as<long long>();
    }

    std::unique_ptr<pqxx::connection> conn_;
    db::CreatedKey key_;
    std::atomic<bool> with_sitemap_{false};
    SiteServer internal_{[](const std::string&) {
                             return SiteResponse{200, "text/html", page("internal", {})};
                         },
                         "127.0.0.2"};
    SiteServer site_{[this](const std::string& path) { return serve(path); }};
    std::atomic<bool> stop_{false};
};

}  // namespace

TEST_F(SiteDiscovererTest, AFullCrawlBecomesOneTaskPerPage) {
    const std::string id = insert_website(site_.url("/"), {{"crawl_mode", "full"}});
    scheduler::SiteDiscoverer d(options());
    ASSERT_TRUE(d.discover_one(stop_));
    EXPECT_FALSE(d.discover_one(stop_));  // nothing else waits

    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "processing");
    EXPECT_EQ(v.discovery_state, "done");
    EXPECT_EQ(v.discovery_method, "full_crawl");
    EXPECT_EQ(v.discovery_total, 4);
    EXPECT_FALSE(v.discovery_truncated);
    const std::vector<std::string> urls = task_urls(id);
    ASSERT_EQ(urls.size(), 4u);
    EXPECT_EQ(urls.front(), site_.url("/"));  // breadth first from the start page
    EXPECT_EQ(std::set<std::string>(urls.begin(), urls.end()),
              (std::set<std::string>{site_.url("/"), site_.url("/about"), site_.url("/docs/"),
                                     site_.url("/docs/getting-started.html")}));
    for (const auto& t : v.tasks) EXPECT_EQ(t.status, "pending");
    // The other site was never read: not the same site, and not allowed.
    EXPECT_EQ(internal_.requests(), 0);
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 0);
}

TEST_F(SiteDiscovererTest, TheJobsOptionsShapeTheCrawl) {
    with_sitemap_ = true;
    const std::string sitemap = insert_website(site_.url("/"), {{"crawl_mode", "sitemap"}});
    scheduler::SiteDiscoverer d(options());
    ASSERT_TRUE(d.discover_one(stop_));
    EXPECT_EQ(job(sitemap).discovery_method, "sitemap");
    EXPECT_EQ(task_urls(sitemap), (std::vector<std::string>{site_.url("/docs/getting-started.html"),
                                                            site_.url("/about")}));

    const std::string limited = insert_website(
        site_.url("/"), {{"crawl_mode", "full"}, {"max_pages", 2}, {"max_depth", 1}});
    ASSERT_TRUE(d.discover_one(stop_));
    const db::JobView v = job(limited);
    EXPECT_EQ(v.discovery_method, "full_crawl");
    EXPECT_TRUE(v.discovery_truncated);
    EXPECT_EQ(v.tasks.size(), 2u);

    const std::string docs =
        insert_website(site_.url("/"), {{"crawl_mode", "full"}, {"include_patterns", {"^/docs/"}}});
    ASSERT_TRUE(d.discover_one(stop_));
    const std::vector<std::string> docs_urls = task_urls(docs);
    EXPECT_EQ(
        std::set<std::string>(docs_urls.begin(), docs_urls.end()),
        (std::set<std::string>{site_.url("/docs/"), site_.url("/docs/getting-started.html")}));
}

TEST_F(SiteDiscovererTest, NoSitemapFailsTheJobWithTheReason) {
    const std::string id = insert_website(site_.url("/"), {{"crawl_mode", "sitemap"}});
    scheduler::SiteDiscoverer d(options());
    ASSERT_TRUE(d.discover_one(stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "failed");
    EXPECT_TRUE(v.completed_at);
    EXPECT_EQ(v.discovery_state, "failed");
    EXPECT_EQ(v.discovery_error_code, "no_sitemap");
    ASSERT_TRUE(v.discovery_error);
    EXPECT_FALSE(v.discovery_error->empty());
    EXPECT_TRUE(v.tasks.empty());
    // The client is told once (the job had a callback_url).
    EXPECT_EQ(count("SELECT count(*) FROM notifications WHERE type = 'webhook'"), 1);
}

TEST_F(SiteDiscovererTest, AnAddressOutsideTheAllowedNetworksIsNeverRead) {
    const std::string id = insert_website(internal_.url("/"), {{"crawl_mode", "full"}});
    scheduler::SiteDiscoverer d(options());
    ASSERT_TRUE(d.discover_one(stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "failed");
    EXPECT_EQ(v.discovery_error_code, "no_pages");
    EXPECT_TRUE(v.tasks.empty());
    EXPECT_EQ(internal_.requests(), 0);
}

TEST_F(SiteDiscovererTest, ADiscoveryTakenUpTooOftenFailsWithoutACrawl) {
    const std::string id = insert_website(site_.url("/"), {{"crawl_mode", "full"}});
    // Three discoverers died with it (each lease ran out).
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(db::claim_discovery(*conn_, "dead-" + std::to_string(i), 0));
        pqxx::work tx(*conn_);
        tx.exec("UPDATE jobs SET discovery_lease_expires_at = now() - interval '1 second'");
        tx.commit();
    }
    scheduler::SiteDiscoverer d(options());
    ASSERT_TRUE(d.discover_one(stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "failed");
    EXPECT_EQ(v.discovery_state, "failed");
    EXPECT_EQ(v.discovery_error_code, "internal_error");
    ASSERT_TRUE(v.discovery_error);
    EXPECT_NE(v.discovery_error->find("3 attempts"), std::string::npos) << *v.discovery_error;
    EXPECT_EQ(site_.requests(), 0);
    EXPECT_EQ(count("SELECT discovery_attempts FROM jobs"), 4);

    // Within the attempts it is still crawled.
    const std::string retried = insert_website(site_.url("/"), {{"crawl_mode", "full"}});
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(db::claim_discovery(*conn_, "dead-" + std::to_string(i), 0));
        pqxx::work tx(*conn_);
        tx.exec(
            "UPDATE jobs SET discovery_lease_expires_at = now() - interval '1 second' "
            "WHERE discovery_state = 'pending'");
        tx.commit();
    }
    ASSERT_TRUE(d.discover_one(stop_));
    EXPECT_EQ(job(retried).discovery_state, "done");
    EXPECT_EQ(job(retried).tasks.size(), 4u);
}

TEST_F(SiteDiscovererTest, AStoppingWorkerGivesTheDiscoveryBack) {
    const std::string id = insert_website(site_.url("/"), {{"crawl_mode", "full"}});
    scheduler::SiteDiscoverer d(options());
    stop_ = true;
    EXPECT_FALSE(d.discover_one(stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "processing");
    EXPECT_EQ(v.discovery_state, "pending");
    EXPECT_TRUE(v.tasks.empty());
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE discovery_lease_owner IS NULL AND "
                    "discovery_attempts = 0"),
              1);
    // Another worker takes it at once.
    stop_ = false;
    scheduler::SiteDiscoverer other(options());
    ASSERT_TRUE(other.discover_one(stop_));
    EXPECT_EQ(job(id).discovery_state, "done");
}

TEST_F(SiteDiscovererTest, RunFindsNewJobsUntilStopped) {
    db::Session listener(url(), {db::kDiscoveryDoneChannel});
    scheduler::SiteDiscoverer d(options());
    std::atomic<bool> stop{false};
    std::thread t([&] { d.run(stop); });
    // Inserted while the loop runs: its NOTIFY (or the first look) wakes it,
    // long before the 60 s poll interval.
    const std::string id = insert_website(site_.url("/"), {{"crawl_mode", "full"}});
    bool recorded = false;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!recorded && std::chrono::steady_clock::now() < deadline) {
        for (const auto& n : listener.take_notifications()) recorded |= n.payload == id;
        if (recorded) break;
        pollfd p{listener.fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
    }
    stop = true;
    t.join();
    EXPECT_TRUE(recorded);
    EXPECT_EQ(job(id).discovery_state, "done");
    EXPECT_EQ(job(id).tasks.size(), 4u);
}

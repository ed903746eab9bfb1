// CurlFetcher against real loopback servers: the address policy on every
// hop, redirects only where the caller agrees, the size cap and the budget.
// allowed_networks = 127.0.0.1/32, so 127.0.0.2 stands for an internal host.
#include "crawl/fetcher.h"

#include <gtest/gtest.h>

#include "../../support/held_lookup.h"
#include "site_server.h"

namespace enconvert::crawl {
namespace {

using testing::SiteResponse;
using testing::SiteServer;
using namespace std::chrono_literals;

CurlFetcher::Settings settings() {
    CurlFetcher::Settings s;
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
    return s;
}

const RedirectFilter kFollowAll = [](const std::string&) { return true; };

class CrawlFetcherTest : public ::testing::Test {
  protected:
    SiteServer internal{[](const std::string&) {
                            return SiteResponse{200, "text/plain", "secret"};
                        },
                        "127.0.0.2"};
    SiteServer external{[](const std::string&) { return SiteResponse{200, "text/html", "ext"}; }};
    SiteServer site{[this](const std::string& path) {
        if (path == "/page") return SiteResponse{200, "text/html; charset=UTF-8", "<p>hello</p>"};
        if (path == "/to-internal")
            return SiteResponse{302, "text/html", "", "Location: " + internal.url("/x") + "\r\n"};
        if (path == "/to-external")
            return SiteResponse{302, "text/html", "", "Location: " + external.url("/y") + "\r\n"};
        if (path == "/to-page") return SiteResponse{301, "text/html", "", "Location: page\r\n"};
        if (path == "/to-smtp")
            return SiteResponse{302, "text/html", "", "Location: http://127.0.0.1:25/x\r\n"};
        if (path == "/loop") return SiteResponse{302, "text/html", "", "Location: /loop\r\n"};
        if (path == "/big") return SiteResponse{200, "text/html", std::string(5000, 'b')};
        if (path == "/hang") return SiteResponse::hanging();
        return SiteResponse{404, "text/html", "nope"};
    }};
};

TEST_F(CrawlFetcherTest, FetchesAPage) {
    CurlFetcher f(settings());
    auto r = f.get(site.url("/page"), 5s, {});
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<p>hello</p>");
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(r.final_url, site.url("/page"));
    ASSERT_FALSE(site.user_agents().empty());
    EXPECT_NE(site.user_agents()[0].find("enconvert"), std::string::npos);
}

TEST_F(CrawlFetcherTest, NeverConnectsToAnInternalAddress) {
    CurlFetcher f(settings());
    auto direct = f.get(internal.url("/x"), 5s, kFollowAll);
    EXPECT_EQ(direct.error_code, "blocked_address");
    EXPECT_NE(direct.error.find("private or reserved"), std::string::npos);
    // 2130706434 is 127.0.0.2 written as one number.
    auto numeric =
        f.get("http://2130706434:" + std::to_string(internal.port()) + "/x", 5s, kFollowAll);
    EXPECT_EQ(numeric.error_code, "blocked_address");
    auto redirected = f.get(site.url("/to-internal"), 5s, kFollowAll);
    EXPECT_EQ(redirected.error_code, "blocked_address");
    EXPECT_EQ(site.requests("/to-internal"), 1);
    EXPECT_EQ(internal.requests(), 0);
}

// A host's next allowed address is tried when one does not answer (a site
// whose IPv6 address is unreachable from here), a blocked one among them
// left out. 127.0.0.3 is allowed and has nothing listening.
TEST_F(CrawlFetcherTest, AHostsNextAddressIsTriedWhenOneDoesNotAnswer) {
    const int port = site.port();
    auto s = settings();
    s.policy =
        net::AddressPolicy::from_config("127.0.0.1/32,127.0.0.3/32", [&](const std::string& host) {
            if (host != "several.test") return std::vector<net::IpAddress>{};
            return std::vector<net::IpAddress>{*net::IpAddress::parse("127.0.0.2"),
                                               *net::IpAddress::parse("127.0.0.3"),
                                               *net::IpAddress::parse("127.0.0.1")};
        });
    CurlFetcher f(s);
    auto r = f.get("http://several.test:" + std::to_string(port) + "/page", 5s, {});
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.body, "<p>hello</p>");
    EXPECT_EQ(site.requests("/page"), 1);
}

// A failed connection is reported with the URL's host, not the name the
// connection is pinned through (outbound/address_pin.h). Nothing listens
// on the port of a server that is gone.
TEST_F(CrawlFetcherTest, AConnectFailureNamesTheUrlsHost) {
    int port = 0;
    {
        SiteServer gone{[](const std::string&) { return SiteResponse{200, "text/plain", ""}; }};
        port = gone.port();
    }
    auto s = settings();
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32", [](const std::string& host) {
        if (host != "gone.test") return std::vector<net::IpAddress>{};
        return std::vector<net::IpAddress>{*net::IpAddress::parse("127.0.0.1")};
    });
    CurlFetcher f(s);
    auto r = f.get("http://gone.test:" + std::to_string(port) + "/page", 5s, {});
    EXPECT_EQ(r.error_code, "fetch_failed");
    EXPECT_NE(r.error.find("Failed to connect to gone.test port"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("enconvert.invalid"), std::string::npos) << r.error;
}

TEST_F(CrawlFetcherTest, RedirectsOnlyWhereTheCallerAgrees) {
    CurlFetcher f(settings());
    auto refused = f.get(site.url("/to-external"), 5s, [&](const std::string& next) {
        return next.rfind(site.origin(), 0) == 0;
    });
    EXPECT_EQ(refused.error_code, "redirect_refused");
    EXPECT_EQ(refused.status, 302);
    EXPECT_EQ(refused.location, external.url("/y"));
    EXPECT_EQ(external.requests(), 0);

    auto none = f.get(site.url("/to-page"), 5s, {});
    EXPECT_EQ(none.error_code, "redirect_refused");

    auto followed = f.get(site.url("/to-page"), 5s, kFollowAll);
    EXPECT_TRUE(followed.ok()) << followed.error;
    EXPECT_EQ(followed.final_url, site.url("/page"));
    EXPECT_EQ(followed.body, "<p>hello</p>");

    auto loop = f.get(site.url("/loop"), 5s, kFollowAll);
    EXPECT_EQ(loop.error_code, "too_many_redirects");
}

TEST_F(CrawlFetcherTest, CapsTheBody) {
    auto s = settings();
    s.max_body = 1000;
    CurlFetcher f(s);
    auto r = f.get(site.url("/big"), 5s, {});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body_truncated);
    EXPECT_EQ(r.body.size(), 1000u);
}

TEST_F(CrawlFetcherTest, EndsAtTheBudget) {
    CurlFetcher f(settings());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = f.get(site.url("/hang"), 500ms, {});
    EXPECT_EQ(r.error_code, "timeout");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(CrawlFetcherTest, CancelAbortsATransferInFlight) {
    std::atomic<bool> cancel{false};
    auto s = settings();
    s.cancel = &cancel;
    CurlFetcher f(s);
    std::thread canceller([&] {
        // Cancel once the request has reached the server, bounded wait.
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (site.requests("/hang") == 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
        cancel = true;
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = f.get(site.url("/hang"), 30s, {});
    canceller.join();
    EXPECT_EQ(r.error_code, "cancelled");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

// getaddrinfo has no deadline: a site whose DNS server never answers must
// not hold discovery past its budget or past a stop.
TEST_F(CrawlFetcherTest, AHostWhoseDnsDoesNotAnswerEndsAtTheBudget) {
    auto dns = test_support::HeldLookup::create({"silent-dns.test"});
    auto s = settings();
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32", dns->lookup());
    CurlFetcher f(s);
    auto r = f.get("http://silent-dns.test/page", 300ms, {});
    EXPECT_EQ(r.error_code, "timeout");
    EXPECT_EQ(r.error, "silent-dns.test did not resolve within the time budget");
    EXPECT_EQ(dns->started(), 1);
    EXPECT_EQ(dns->answered(), 0);
    dns->release();
}

// The transfer gets what the look-up left of the budget, not the whole of
// it again: a slow DNS answer followed by a page that never answers took up
// to twice the budget.
TEST_F(CrawlFetcherTest, ASlowLookupLeavesTheTransferOnlyTheRestOfTheBudget) {
    auto dns = test_support::HeldLookup::create({"slow-dns.test"}, "127.0.0.1");
    auto s = settings();
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32", dns->lookup());
    CurlFetcher f(s);
    const auto t0 = std::chrono::steady_clock::now();
    std::thread answer([&] {
        // a DNS server that answers when most of the budget is gone
        std::this_thread::sleep_until(t0 + 1500ms);
        dns->release();
    });
    auto r = f.get("http://slow-dns.test:" + std::to_string(site.port()) + "/hang", 2s, {});
    answer.join();
    EXPECT_EQ(r.error_code, "timeout");
    EXPECT_EQ(dns->answered(), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(CrawlFetcherTest, CancelEndsTheWaitForALookup) {
    auto dns = test_support::HeldLookup::create({"silent-dns.test"});
    std::atomic<bool> cancel{false};
    auto s = settings();
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32", dns->lookup());
    s.cancel = &cancel;
    CurlFetcher f(s);
    std::thread canceller([&] {
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (dns->started() == 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
        cancel = true;
    });
    auto r = f.get("http://silent-dns.test/page", 30s, {});
    canceller.join();
    EXPECT_EQ(r.error_code, "cancelled");
    EXPECT_EQ(dns->answered(), 0);
    dns->release();
}

// Ports browsers refuse (mail, IRC, X11) are refused before any lookup or
// connection, on the first URL and on a redirect alike. Nothing listens on
// them here: without the check the answer would be a failed connection.
TEST_F(CrawlFetcherTest, RefusesPortsBrowsersRefuse) {
    CurlFetcher f(settings());
    const auto direct = f.get("http://127.0.0.1:6667/", 5s, {});
    EXPECT_EQ(direct.error_code, "restricted_port");
    EXPECT_NE(direct.error.find("port 6667 of 127.0.0.1"), std::string::npos) << direct.error;
    const auto redirected = f.get(site.url("/to-smtp"), 5s, kFollowAll);
    EXPECT_EQ(redirected.error_code, "restricted_port");
    EXPECT_EQ(site.requests("/to-smtp"), 1);
}

TEST_F(CrawlFetcherTest, RefusesOtherSchemes) {
    CurlFetcher f(settings());
    EXPECT_EQ(f.get("file:///etc/passwd", 5s, {}).error_code, "invalid_url");
    EXPECT_EQ(f.get("gopher://127.0.0.1/", 5s, {}).error_code, "invalid_url");
}

}  // namespace
}  // namespace enconvert::crawl

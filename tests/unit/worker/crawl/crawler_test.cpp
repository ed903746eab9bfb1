// Discovery end to end over real loopback HTTP: a 30+ page site with
// sitemaps (plain, gzip, an index), a robots.txt forbidding /private/, an
// endless /calendar?page=N, links and a redirect to another site (a second
// server) and to an internal address (127.0.0.2, outside allowed_networks =
// 127.0.0.1/32) that must never receive a request.
#include "crawl/crawler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "gzip_helper.h"
#include "site_server.h"

namespace enconvert::crawl {
namespace {

using testing::gzip;
using testing::SiteResponse;
using testing::SiteServer;
using namespace std::chrono_literals;

const std::vector<std::string> kDocs = {"intro",   "install", "configure", "deploy",
                                        "upgrade", "backup",  "restore",   "monitor",
                                        "tune",    "secure",  "scale",     "migrate"};
const std::vector<std::string> kPosts = {"launch",  "roadmap", "story",    "team",
                                         "culture", "hiring",  "values",   "design",
                                         "testing", "release", "feedback", "future"};

std::string page(const std::string& title, const std::string& links) {
    return "<!doctype html><html><head><title>" + title + "</title></head><body><h1>" + title +
           "</h1>" + links + "</body></html>";
}
std::string a(const std::string& href) {
    return "<a href=\"" + href + "\">" + href + "</a>\n";
}

std::string urlset(const std::vector<std::string>& locs) {
    std::string x =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
    for (const auto& l : locs) x += "  <url><loc>" + l + "</loc></url>\n";
    return x + "</urlset>\n";
}

class CrawlSiteTest : public ::testing::Test {
  protected:
    SiteResponse serve(const std::string& path) {
        const std::string ext = external.origin();
        const std::string in = internal.origin();
        if (path == "/robots.txt") {
            return {200, "text/plain",
                    "# the test site\nUser-agent: *\nDisallow: /private/\n"
                    "Allow: /private/public-note$\n\nSitemap: " +
                        site.url("/sitemaps/index.xml") + "\n"};
        }
        if (path == "/sitemap.xml") {
            return {200, "application/xml",
                    urlset({site.url("/"), site.url("/about"), site.url("/contact"),
                            site.url("/private/secret-plans"), ext + "/elsewhere",
                            site.url("/logo.png")})};
        }
        if (path == "/sitemaps/index.xml") {
            return {200, "application/xml",
                    "<?xml version=\"1.0\"?><sitemapindex "
                    "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                    "<sitemap><loc>" +
                        site.url("/sitemaps/docs.xml.gz") +
                        "</loc></sitemap>"
                        "<sitemap><loc>/sitemaps/blog.xml</loc></sitemap>"
                        "<sitemap><loc>" +
                        ext +
                        "/sitemap.xml</loc></sitemap>"
                        "</sitemapindex>"};
        }
        if (path == "/sitemaps/docs.xml.gz") {
            std::vector<std::string> locs;
            for (const auto& d : kDocs) locs.push_back(site.url("/docs/" + d));
            return {200, "application/x-gzip", gzip(urlset(locs))};
        }
        if (path == "/sitemaps/blog.xml") {
            std::vector<std::string> locs;
            for (const auto& p : kPosts) locs.push_back(site.url("/blog/" + p));
            return {200, "text/xml", urlset(locs)};
        }
        if (path == "/") {
            return {200, "text/html",
                    page("Home", a("docs/") + a("/blog/") + a("about") + a("contact#team") +
                                     a("/calendar?page=1") + a("/private/secret-plans") +
                                     a("/private/public-note") + a("/go-external") +
                                     a("/go-internal") + a("/login") + a("/logo.png") +
                                     a("/styles/site.css") + a("/search?sort=asc") + a("/feed") +
                                     a("/missing") + a(ext + "/ext-page") +
                                     a(in + "/internal-page") + a("mailto:info@example.com") +
                                     a("javascript:void(0)") + a("#top"))};
        }
        if (path == "/docs/") {
            std::string links = a("../");
            for (const auto& d : kDocs) links += a(d);
            return {200, "text/html", page("Docs", links)};
        }
        if (path == "/blog/") {
            std::string links = a("/");
            for (const auto& p : kPosts) links += a("/blog/" + p);
            return {200, "text/html", page("Blog", links)};
        }
        for (std::size_t i = 0; i < kDocs.size(); ++i) {
            if (path == "/docs/" + kDocs[i]) {
                const std::string next = kDocs[(i + 1) % kDocs.size()];
                return {200, "text/html",
                        page(kDocs[i], a("../docs/" + next + "#section") + a("./") + a("/"))};
            }
        }
        for (std::size_t i = 0; i < kPosts.size(); ++i) {
            if (path == "/blog/" + kPosts[i]) {
                return {200, "text/html",
                        page(kPosts[i], a("/blog/" + kPosts[(i + 1) % kPosts.size()]) +
                                            a(ext + "/linked-from-blog"))};
            }
        }
        if (path.rfind("/calendar?page=", 0) == 0) {
            const int n = std::stoi(path.substr(15));
            return {200, "text/html",
                    page("Calendar " + std::to_string(n),
                         a("/calendar?page=" + std::to_string(n + 1)) +
                             a("/calendar?page=" + std::to_string(std::max(1, n - 1))))};
        }
        if (path == "/about") return {200, "text/html", page("About", a("/deep/one"))};
        if (path == "/contact") return {200, "text/html", page("Contact", a("/go-docs"))};
        if (path == "/deep/one") return {200, "text/html", page("One", a("/deep/two"))};
        if (path == "/deep/two") return {200, "text/html", page("Two", a("/deep/three"))};
        if (path == "/deep/three") return {200, "text/html", page("Three", a("/deep/four"))};
        if (path == "/deep/four") return {200, "text/html", page("Four", "")};
        if (path == "/private/secret-plans" || path == "/private/public-note" || path == "/login") {
            return {200, "text/html", page(path, "")};
        }
        if (path == "/feed") return {200, "text/plain", "<a href=\"/from-feed\">not html</a>"};
        if (path == "/go-docs") return {301, "text/html", "", "Location: /docs/intro\r\n"};
        if (path == "/go-private")
            return {302, "text/html", "", "Location: /private/secret-plans\r\n"};
        if (path == "/go-external")
            return {302, "text/html", "", "Location: " + ext + "/redirected\r\n"};
        if (path == "/go-internal")
            return {302, "text/html", "", "Location: " + in + "/redirected\r\n"};
        return {404, "text/html", page("Not found", "")};
    }

    CrawlResult crawl(CrawlOptions o) {
        if (o.start_url.empty()) o.start_url = site.url("/");
        CurlFetcher::Settings s;
        s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
        CurlFetcher fetcher(s);
        return discover(o, fetcher, stop);
    }

    std::set<std::string> paths(const CrawlResult& r) const {
        std::set<std::string> out;
        for (const auto& u : r.urls) {
            EXPECT_EQ(u.rfind(site.origin() + "/", 0), 0u) << "off-site: " << u;
            out.insert(u.substr(site.origin().size()));
        }
        EXPECT_EQ(out.size(), r.urls.size()) << "duplicates in the answer";
        return out;
    }

    void expect_no_outside_traffic() const {
        EXPECT_EQ(internal.requests(), 0);
        EXPECT_EQ(external.requests(), 0);
    }

    std::atomic<bool> stop{false};
    SiteServer internal{[](const std::string&) {
                            return SiteResponse{200, "text/html", "x"};
                        },
                        "127.0.0.2"};
    SiteServer external{[](const std::string&) {
        return SiteResponse{200, "text/html", page("Other", "")};
    }};
    SiteServer site{[this](const std::string& path) { return serve(path); }};
};

TEST_F(CrawlSiteTest, SitemapModeReadsTheIndexAndTheGzipSitemap) {
    CrawlOptions o;
    o.mode = CrawlMode::sitemap;
    auto r = crawl(o);
    EXPECT_EQ(r.error_code, "") << r.error;
    EXPECT_EQ(r.method, "sitemap");
    const auto p = paths(r);
    EXPECT_EQ(p.size(), 3u + kDocs.size() + kPosts.size());
    for (const auto& d : kDocs) EXPECT_TRUE(p.count("/docs/" + d)) << d;  // from the .xml.gz
    for (const auto& x : kPosts) EXPECT_TRUE(p.count("/blog/" + x)) << x;
    EXPECT_TRUE(p.count("/") && p.count("/about") && p.count("/contact"));
    EXPECT_FALSE(p.count("/private/secret-plans"));  // robots.txt
    EXPECT_FALSE(p.count("/logo.png"));              // default excludes
    EXPECT_EQ(r.total_discovered, r.urls.size());
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(site.requests("/sitemaps/docs.xml.gz"), 1);
    EXPECT_EQ(site.requests("/docs/intro"), 0);  // sitemap mode reads no pages
    expect_no_outside_traffic();
}

TEST_F(CrawlSiteTest, SitemapModeCutAtThePageLimit) {
    CrawlOptions o;
    o.mode = CrawlMode::sitemap;
    o.max_pages = 10;
    auto r = crawl(o);
    EXPECT_EQ(r.urls.size(), 10u);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.total_discovered, 3u + kDocs.size() + kPosts.size());
}

TEST_F(CrawlSiteTest, AutomaticPrefersTheSitemap) {
    auto r = crawl(CrawlOptions{});
    EXPECT_EQ(r.method, "sitemap");
    EXPECT_EQ(r.urls.size(), 27u);
}

TEST_F(CrawlSiteTest, FullCrawlFollowsSameSiteLinksOnly) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    auto r = crawl(o);
    EXPECT_EQ(r.error_code, "") << r.error;
    EXPECT_EQ(r.method, "full_crawl");
    const auto p = paths(r);
    ASSERT_FALSE(r.urls.empty());
    EXPECT_EQ(r.urls[0], site.url("/"));
    for (const auto& d : kDocs) EXPECT_TRUE(p.count("/docs/" + d)) << d;
    for (const auto& x : kPosts) EXPECT_TRUE(p.count("/blog/" + x)) << x;
    for (const char* want : {"/docs/", "/blog/", "/about", "/contact", "/private/public-note",
                             "/deep/one", "/deep/two", "/calendar?page=1"}) {
        EXPECT_TRUE(p.count(want)) << want;
    }
    // Default depth 3: /deep/three is four hops away.
    EXPECT_FALSE(p.count("/deep/three"));
    EXPECT_EQ(site.requests("/deep/three"), 0);
    // Not pages: a text answer, a 404, redirects off the site.
    for (const char* no : {"/feed", "/missing", "/go-external", "/go-internal", "/go-docs"}) {
        EXPECT_FALSE(p.count(no)) << no;
    }
    EXPECT_EQ(site.requests("/from-feed"), 0);  // links of non-HTML are not followed
    // Default excludes are not even fetched.
    for (const char* no : {"/login", "/logo.png", "/styles/site.css", "/search?sort=asc"}) {
        EXPECT_FALSE(p.count(no)) << no;
        EXPECT_EQ(site.requests(no), 0) << no;
    }
    // Every page once; the same-site redirect /go-docs lands on a page already known.
    EXPECT_EQ(site.requests("/docs/intro"), 1);
    EXPECT_EQ(site.requests("/"), 1);
    EXPECT_EQ(r.total_discovered, r.urls.size());
    EXPECT_FALSE(r.truncated);
    EXPECT_GE(r.urls.size(), 30u);
    expect_no_outside_traffic();
}

TEST_F(CrawlSiteTest, RobotsTxtIsObeyed) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    auto r = crawl(o);
    const auto p = paths(r);
    EXPECT_FALSE(p.count("/private/secret-plans"));
    EXPECT_EQ(site.requests("/private/secret-plans"), 0);
    EXPECT_TRUE(p.count("/private/public-note"));  // the longer Allow wins
    EXPECT_EQ(site.requests("/robots.txt"), 1);
}

TEST_F(CrawlSiteTest, AStartPageRedirectingWhereRobotsTxtForbidsIsNotCaptured) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.start_url = site.url("/go-private");
    auto r = crawl(o);
    EXPECT_TRUE(r.urls.empty());
    EXPECT_EQ(r.error_code, "no_pages");
    EXPECT_EQ(site.requests("/private/secret-plans"), 0);
}

TEST_F(CrawlSiteTest, TheCalendarTrapIsCut) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.max_depth = 1000;
    o.max_pages = 1000;
    auto r = crawl(o);
    const int calendar = site.requests_under("/calendar");
    EXPECT_GE(calendar, 3);
    EXPECT_LE(calendar, kTrapCap + 1);
    EXPECT_FALSE(r.truncated);
    // Deep chains without digits are followed to the end.
    const auto p = paths(r);
    EXPECT_TRUE(p.count("/deep/four"));
    expect_no_outside_traffic();
}

TEST_F(CrawlSiteTest, IncludePatterns) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.include_patterns = {"^/docs/"};
    auto r = crawl(o);
    const auto p = paths(r);
    EXPECT_EQ(p.size(), 1u + kDocs.size());
    for (const auto& x : p) EXPECT_EQ(x.rfind("/docs/", 0), 0u) << x;
    EXPECT_EQ(site.requests("/"), 1);  // the start page is read for its links
    EXPECT_EQ(site.requests("/blog/"), 0);
}

TEST_F(CrawlSiteTest, ExcludePatternsReplaceTheDefaults) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.exclude_patterns = {"^/blog/", "^/calendar"};
    auto r = crawl(o);
    const auto p = paths(r);
    for (const auto& x : p) {
        EXPECT_NE(x.rfind("/blog/", 0), 0u) << x;
        EXPECT_NE(x.rfind("/calendar", 0), 0u) << x;
    }
    EXPECT_TRUE(p.count("/docs/intro"));
    EXPECT_TRUE(p.count("/login"));  // a default exclude, replaced
    EXPECT_EQ(site.requests_under("/blog/"), 0);
}

TEST_F(CrawlSiteTest, AnEmptyExcludeListGivenTurnsTheDefaultsOff) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.exclude_given = true;  // exclude_patterns: []
    EXPECT_TRUE(paths(crawl(o)).count("/login"));
    o.exclude_given = false;  // not given: the defaults skip it
    EXPECT_FALSE(paths(crawl(o)).count("/login"));
}

TEST_F(CrawlSiteTest, PageLimitTruncates) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.max_pages = 5;
    auto r = crawl(o);
    EXPECT_EQ(r.urls.size(), 5u);
    EXPECT_TRUE(r.truncated);
    EXPECT_GT(r.total_discovered, 5u);
    EXPECT_EQ(r.urls[0], site.url("/"));
}

TEST_F(CrawlSiteTest, DepthLimit) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.max_depth = 1;
    auto r = crawl(o);
    const auto p = paths(r);
    const std::set<std::string> want = {
        "/", "/docs/", "/blog/", "/about", "/contact", "/private/public-note", "/calendar?page=1"};
    EXPECT_EQ(p, want);
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(site.requests("/docs/intro"), 0);

    o.max_depth = 0;
    auto only_start = crawl(o);
    ASSERT_EQ(only_start.urls.size(), 1u);
    EXPECT_EQ(only_start.urls[0], site.url("/"));
}

TEST_F(CrawlSiteTest, StartOnAnInternalAddressIsNeverRequested) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.start_url = internal.url("/");
    auto r = crawl(o);
    EXPECT_EQ(r.error_code, "no_pages");
    EXPECT_NE(r.error.find("private or reserved"), std::string::npos) << r.error;
    EXPECT_TRUE(r.urls.empty());
    EXPECT_EQ(internal.requests(), 0);
}

TEST_F(CrawlSiteTest, StartRedirectingToAnInternalAddressIsNotFollowed) {
    CrawlOptions o;
    o.mode = CrawlMode::automatic;
    o.start_url = site.url("/go-internal");
    auto r = crawl(o);
    // The site's sitemap still answers in automatic mode; the redirect itself is refused.
    EXPECT_EQ(internal.requests(), 0);
    o.mode = CrawlMode::full;
    auto full = crawl(o);
    EXPECT_EQ(full.error_code, "no_pages");
    EXPECT_NE(full.error.find("start page could not be fetched"), std::string::npos) << full.error;
    EXPECT_EQ(internal.requests(), 0);
}

TEST_F(CrawlSiteTest, AStartRedirectToAnotherSiteMovesTheCaptureOnlyWithoutCredentials) {
    CrawlOptions o;
    o.mode = CrawlMode::full;
    o.start_url = site.url("/go-external");
    auto moved = crawl(o);
    ASSERT_EQ(moved.urls.size(), 1u) << moved.error;
    EXPECT_EQ(moved.urls[0], external.url("/redirected"));
    // With credentials the other site's pages would be rendered with them.
    o.carries_credentials = true;
    auto kept = crawl(o);
    EXPECT_TRUE(kept.urls.empty());
    EXPECT_EQ(kept.error_code, "no_pages");
    EXPECT_NE(kept.error.find("redirects to " + external.origin() + ", another site"),
              std::string::npos)
        << kept.error;
    // Automatic mode still reads the given site's own sitemap.
    o.mode = CrawlMode::automatic;
    auto sitemap = crawl(o);
    EXPECT_EQ(sitemap.method, "sitemap");
    EXPECT_FALSE(sitemap.urls.empty());
    paths(sitemap);  // every one on the given site
}

TEST_F(CrawlSiteTest, StopEndsDiscoveryAtOnce) {
    stop = true;
    auto r = crawl(CrawlOptions{});
    EXPECT_EQ(r.error_code, "cancelled");
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(site.requests(), 0);
}

TEST_F(CrawlSiteTest, InvalidInput) {
    CrawlOptions o;
    o.start_url = "ftp://example.com/";
    EXPECT_EQ(crawl(o).error_code, "invalid_url");
    o.start_url = site.url("/");
    o.include_patterns = {"(unclosed"};
    EXPECT_EQ(crawl(o).error_code, "invalid_pattern");
    o.include_patterns.clear();
    o.max_pages = 0;
    EXPECT_EQ(crawl(o).error_code, "invalid_options");
    EXPECT_EQ(site.requests(), 0);
}

// A site with no sitemap, no robots.txt and three pages.
class CrawlBareSiteTest : public ::testing::Test {
  protected:
    SiteServer site{[](const std::string& path) {
        if (path == "/") return SiteResponse{200, "text/html", page("Home", a("/a") + a("/b"))};
        if (path == "/a" || path == "/b") return SiteResponse{200, "text/html", page(path, "")};
        if (path == "/empty") return SiteResponse{200, "text/html", page("Empty", a("/login"))};
        return SiteResponse{404, "text/html", "nope"};
    }};
    std::atomic<bool> stop{false};

    CrawlResult crawl(CrawlOptions o) {
        CurlFetcher::Settings s;
        s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
        CurlFetcher fetcher(s);
        return discover(o, fetcher, stop);
    }
};

TEST_F(CrawlBareSiteTest, NoSitemap) {
    CrawlOptions o;
    o.start_url = site.url("/");
    o.mode = CrawlMode::sitemap;
    auto r = crawl(o);
    EXPECT_EQ(r.error_code, "no_sitemap");
    EXPECT_NE(r.error.find("/sitemap.xml"), std::string::npos);
    EXPECT_TRUE(r.urls.empty());
}

TEST_F(CrawlBareSiteTest, AutomaticFallsBackToTheFullCrawl) {
    CrawlOptions o;
    o.start_url = site.url("/");
    auto r = crawl(o);
    EXPECT_EQ(r.error_code, "") << r.error;
    EXPECT_EQ(r.method, "full_crawl");
    EXPECT_EQ(r.urls, (std::vector<std::string>{site.url("/"), site.url("/a"), site.url("/b")}));
}

TEST_F(CrawlBareSiteTest, ZeroPagesIsAClearError) {
    CrawlOptions o;
    o.start_url = site.url("/empty");
    o.mode = CrawlMode::full;
    o.include_patterns = {"^/nothing-matches$"};
    auto r = crawl(o);
    EXPECT_EQ(r.error_code, "no_pages");
    EXPECT_NE(r.error.find("No pages found"), std::string::npos);
    EXPECT_TRUE(r.urls.empty());
}

// What a hostile site can make a discovery keep: URLs longer than the API
// takes are skipped (a short href against a long page URL grows to that,
// or a redirect leads there), and the URLs kept stay under a byte budget,
// the answer then truncated.
class CrawlHeldUrlsTest : public ::testing::Test {
  protected:
    // Within the patterns' 2,048 bytes of path, over 2,048 bytes of URL.
    static std::string long_path() { return "/" + std::string(2039, 'x'); }
    SiteServer site{[this](const std::string& path) {
        if (path == "/sitemap.xml") {
            std::vector<std::string> locs{site.url(long_path())};
            for (int i = 0; i < 100; ++i) locs.push_back(site.url("/p" + std::to_string(i)));
            return SiteResponse{200, "application/xml", urlset(locs)};
        }
        if (path == "/") {
            std::string links = a(long_path()) + a("?" + std::string(2100, 'q')) + a("/to-long");
            for (int i = 0; i < 100; ++i) links += a("/p" + std::to_string(i));
            return SiteResponse{200, "text/html", page("Home", links)};
        }
        if (path == "/to-long")
            return SiteResponse{302, "text/html", "", "Location: " + long_path() + "\r\n"};
        return SiteResponse{200, "text/html", page(path, "")};
    }};
    std::atomic<bool> stop{false};

    CrawlResult crawl(CrawlMode mode, std::size_t max_kept_url_bytes) {
        CurlFetcher::Settings s;
        s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
        CurlFetcher fetcher(s);
        CrawlOptions o;
        o.start_url = site.url("/");
        o.mode = mode;
        o.max_pages = 1000;
        o.max_kept_url_bytes = max_kept_url_bytes;
        return discover(o, fetcher, stop);
    }
};

TEST_F(CrawlHeldUrlsTest, UrlsLongerThanTheApiTakesAreSkipped) {
    for (CrawlMode mode : {CrawlMode::sitemap, CrawlMode::full}) {
        const CrawlResult r = crawl(mode, 64u << 20);
        EXPECT_EQ(r.error_code, "") << r.error;
        EXPECT_FALSE(r.truncated);
        EXPECT_GE(r.urls.size(), 100u);
        for (const auto& u : r.urls) EXPECT_LE(u.size(), kMaxUrlBytes) << u.substr(0, 80);
    }
}

TEST_F(CrawlHeldUrlsTest, AStartPageRedirectingToATooLongUrlGivesNoPages) {
    CurlFetcher::Settings s;
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
    CurlFetcher fetcher(s);
    CrawlOptions o;
    o.start_url = site.url("/to-long");
    o.mode = CrawlMode::full;
    const CrawlResult r = discover(o, fetcher, stop);
    EXPECT_EQ(r.error_code, "no_pages");
    EXPECT_NE(r.error.find("longer than 2048 bytes"), std::string::npos) << r.error;
    EXPECT_TRUE(r.urls.empty());
}

TEST_F(CrawlHeldUrlsTest, TheUrlsKeptStayUnderTheBudget) {
    const std::size_t budget = 20 * 2 * (site.url("/p10").size() + 64);  // ~20 sitemap entries
    const CrawlResult listed = crawl(CrawlMode::sitemap, budget);
    EXPECT_TRUE(listed.truncated);
    EXPECT_GE(listed.urls.size(), 15u);
    EXPECT_LE(listed.urls.size(), 20u);
    EXPECT_EQ(listed.total_discovered, listed.urls.size());
    const CrawlResult crawled = crawl(CrawlMode::full, budget);
    EXPECT_TRUE(crawled.truncated);
    EXPECT_FALSE(crawled.urls.empty());
    EXPECT_LT(crawled.urls.size(), 20u);
}

// A sitemap longer than the fetcher takes is read in part (libxml2 recovers
// the entries before the cut): the pages after it are missing, and the
// answer says so.
TEST(CrawlSitemapCut, ASitemapOverTheSizeCapMarksTheAnswerTruncated) {
    SiteServer site{[&site](const std::string& path) {
        if (path != "/sitemap.xml") return SiteResponse{404, "text/html", "nope"};
        std::vector<std::string> locs;
        for (int i = 0; i < 100; ++i) locs.push_back(site.url("/p" + std::to_string(i)));
        return SiteResponse{200, "application/xml", urlset(locs)};
    }};
    CurlFetcher::Settings s;
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
    s.max_body = 2000;  // stands for the 10 MiB cap
    CurlFetcher fetcher(s);
    std::atomic<bool> stop{false};
    CrawlOptions o;
    o.start_url = site.url("/");
    o.mode = CrawlMode::sitemap;
    o.max_pages = 1000;
    const CrawlResult r = discover(o, fetcher, stop);
    EXPECT_EQ(r.error_code, "") << r.error;
    EXPECT_GT(r.urls.size(), 10u);
    EXPECT_LT(r.urls.size(), 100u);
    EXPECT_TRUE(r.truncated);
}

TEST(CrawlRobotsUnreachable, AServerErrorOnRobotsTxtMeansDisallowEverything) {
    SiteServer site{[](const std::string& path) {
        if (path == "/robots.txt") return SiteResponse{503, "text/plain", "busy"};
        return SiteResponse{200, "text/html", page("Home", a("/a"))};
    }};
    CrawlOptions o;
    o.start_url = site.url("/");
    o.mode = CrawlMode::full;
    CurlFetcher::Settings s;
    s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
    CurlFetcher fetcher(s);
    std::atomic<bool> stop{false};
    auto r = discover(o, fetcher, stop);
    EXPECT_EQ(r.error_code, "no_pages");
    EXPECT_NE(r.error.find("RFC 9309"), std::string::npos) << r.error;
    EXPECT_EQ(site.requests("/"), 0);
    EXPECT_EQ(site.requests("/a"), 0);
}

// Slow and hanging pages: the budgets end the crawl, bounded in time.
class CrawlBudgetTest : public ::testing::Test {
  protected:
    SiteServer site{[](const std::string& path) {
        if (path == "/") {
            std::string links = a("/hang") + a("/fine");
            for (char c = 'a'; c <= 'j'; ++c) links += a(std::string("/slow/") + c);
            return SiteResponse{200, "text/html", page("Home", links)};
        }
        if (path == "/hang") return SiteResponse::hanging();
        if (path == "/fine") return SiteResponse{200, "text/html", page("Fine", "")};
        if (path.rfind("/slow/", 0) == 0)
            return SiteResponse{200, "text/html", page("Slow", ""), "", 400};
        return SiteResponse{404, "text/html", "nope"};
    }};
    std::atomic<bool> stop{false};

    CrawlResult crawl(CrawlOptions o) {
        o.start_url = site.url("/");
        o.mode = CrawlMode::full;
        CurlFetcher::Settings s;
        s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
        CurlFetcher fetcher(s);
        return discover(o, fetcher, stop);
    }
};

TEST_F(CrawlBudgetTest, TotalBudgetEndsTheCrawl) {
    CrawlOptions o;
    o.page_budget = 1s;
    o.total_budget = 2s;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = crawl(o);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 4s);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.error_code, "");
    ASSERT_FALSE(r.urls.empty());
    EXPECT_EQ(r.urls[0], site.url("/"));
    EXPECT_LT(site.requests_under("/slow/"), 10);
    EXPECT_GT(r.total_discovered, r.urls.size());
}

TEST_F(CrawlBudgetTest, PageBudgetSkipsAHangingPage) {
    CrawlOptions o;
    o.page_budget = 1s;
    o.total_budget = 60s;
    o.exclude_patterns = {"^/slow/"};
    const auto t0 = std::chrono::steady_clock::now();
    auto r = crawl(o);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
    EXPECT_EQ(r.urls, (std::vector<std::string>{site.url("/"), site.url("/fine")}));
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(site.requests("/hang"), 1);
}

// A tenant's patterns that backtrack without end, on a site of its own whose
// paths are made to trigger them: each search gives up (url_pattern.h) and
// the discovery still ends within its budget, however many URLs there are.
class CrawlRunawayPatternTest : public ::testing::Test {
  protected:
    static constexpr int kUrls = 2000;  // ~40 s of searches without the budget check

    static std::string runaway_path(int i) {
        return "/" + std::string(2000, 'a') + "!" + std::to_string(i);
    }

    SiteServer site{[this](const std::string& path) {
        if (path == "/sitemap.xml") {
            std::vector<std::string> locs;
            for (int i = 0; i < kUrls; ++i) locs.push_back(site.url(runaway_path(i)));
            return SiteResponse{200, "application/xml", urlset(locs)};
        }
        if (path == "/") {
            std::string links;
            for (int i = 0; i < kUrls; ++i) links += a(runaway_path(i));
            return SiteResponse{200, "text/html", page("Home", links)};
        }
        return SiteResponse{404, "text/html", "nope"};
    }};
    std::atomic<bool> stop{false};

    CrawlResult crawl(CrawlMode mode) {
        CrawlOptions o;
        o.start_url = site.url("/");
        o.mode = mode;
        o.total_budget = 2s;
        o.include_patterns.assign(20, "^/(a|a)*$");
        CurlFetcher::Settings s;
        s.policy = net::AddressPolicy::from_config("127.0.0.1/32");
        CurlFetcher fetcher(s);
        return discover(o, fetcher, stop);
    }
};

TEST_F(CrawlRunawayPatternTest, ASitemapOfTrapsEndsWithTheBudget) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = crawl(CrawlMode::sitemap);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
    EXPECT_TRUE(r.truncated);
    EXPECT_TRUE(r.urls.empty());  // no trap path passes the include patterns
}

TEST_F(CrawlRunawayPatternTest, APageOfTrapLinksEndsWithTheBudget) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = crawl(CrawlMode::full);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.urls, (std::vector<std::string>{site.url("/")}));  // "/" matches
    EXPECT_EQ(site.requests_under("/aaa"), 0);
}

}  // namespace
}  // namespace enconvert::crawl

#include "crawl/url_filter.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "crawl/crawler.h"

namespace enconvert::crawl {
namespace {

TEST(CrawlFilter, DefaultsSkipAssetsAccountPagesAndSortParameters) {
    UrlFilter f({}, {});
    for (const char* ok : {"/", "/docs/intro", "/blog/post?page=2", "/catalogue", "/accounting",
                           "/cartography/maps", "/admin-guide"}) {
        EXPECT_TRUE(f.accepts(ok)) << ok;
    }
    for (const char* no : {"/logo.png",
                           "/img/a.JPG",
                           "/site.css?v=3",
                           "/app.js",
                           "/fonts/x.woff2",
                           "/paper.pdf",
                           "/dl/archive.zip",
                           "/login",
                           "/user/login?next=/",
                           "/wp-login.php",
                           "/wp-admin/x",
                           "/admin/",
                           "/Admin",
                           "/cart",
                           "/checkout/step",
                           "/account/settings",
                           "/my-account",
                           "/shop?sort=price",
                           "/shop?page=1&order=desc",
                           "/shop?filter[color]=red",
                           "/x;jsessionid=abc"}) {
        EXPECT_FALSE(f.accepts(no)) << no;
    }
}

TEST(CrawlFilter, IncludeAndExclude) {
    UrlFilter f({"^/docs/", "^/guides/"}, {"/internal/", "\\?print=1$"});
    EXPECT_TRUE(f.accepts("/docs/intro"));
    EXPECT_TRUE(f.accepts("/guides/a"));
    EXPECT_FALSE(f.accepts("/blog/a"));
    EXPECT_FALSE(f.accepts("/docs/internal/a"));
    EXPECT_FALSE(f.accepts("/docs/a?print=1"));
    // Given exclude patterns replace the defaults.
    EXPECT_TRUE(f.accepts("/docs/logo.png"));
}

TEST(CrawlFilter, IncludeAloneKeepsTheDefaultExcludes) {
    UrlFilter f({"^/docs/"}, {});
    EXPECT_TRUE(f.accepts("/docs/intro"));
    EXPECT_FALSE(f.accepts("/docs/logo.png"));
}

TEST(CrawlFilter, OverlongPathsAreSkipped) {
    UrlFilter f({}, {});
    EXPECT_FALSE(f.accepts("/" + std::string(kMaxPathQueryLength, 'a')));
}

TEST(CrawlFilter, ARunawayPatternDecidesTheSafeWay) {
    // "/aaa…a!" makes "^/(a|a)*$" backtrack without end: std::regex ran
    // for hours on it. Giving up, an include pattern does not match and an
    // exclude pattern does: the page is not taken either way.
    const std::string path = "/" + std::string(60, 'a') + "!";
    EXPECT_FALSE(UrlFilter({"^/(a|a)*$"}, {}).accepts(path));
    EXPECT_FALSE(UrlFilter({}, {"^/(a|a)*$"}).accepts(path));
    EXPECT_TRUE(UrlFilter({"^/(a|a)*$"}, {}).accepts("/aaaa"));
    EXPECT_TRUE(UrlFilter({}, {"^/(a|a)*$"}).accepts("/aaaa/b"));
}

TEST(CrawlFilter, TheDefaultsDoNotGiveUpOnTheLongestPath) {
    // Every default pattern decides on a path of the longest length kept,
    // with every character one its alternatives start with.
    UrlFilter f({}, {});
    std::string path = "/";
    while (path.size() < kMaxPathQueryLength - 10) path += "s.l/x?so&ji";
    path.resize(kMaxPathQueryLength - 10);
    EXPECT_TRUE(f.accepts(path + "/page"));
    EXPECT_FALSE(f.accepts(path + "/a.png"));
    EXPECT_FALSE(f.accepts(path + "?sort=1"));
    for (const auto& p : default_exclude_patterns()) {
        EXPECT_NE(UrlPattern(p, true).search(path), UrlPattern::Result::gave_up) << p;
    }
}

TEST(CrawlFilter, PatternError) {
    EXPECT_FALSE(pattern_error("^/docs/"));
    EXPECT_FALSE(pattern_error("\\.(png|jpe?g)$"));
    EXPECT_TRUE(pattern_error(""));
    EXPECT_TRUE(pattern_error("(unclosed"));
    EXPECT_TRUE(pattern_error("[a-"));
    EXPECT_TRUE(pattern_error("*starts-with-star"));
    const auto why = pattern_error("(unclosed");
    ASSERT_TRUE(why);
    EXPECT_EQ(*why,
              "pattern is not a valid regular expression: missing closing parenthesis at offset 9");
    EXPECT_FALSE(pattern_error(std::string(kMaxPatternLength, 'a')));
    auto long_error = pattern_error(std::string(kMaxPatternLength + 1, 'a'));
    ASSERT_TRUE(long_error);
    EXPECT_NE(long_error->find("500"), std::string::npos);
    EXPECT_THROW(UrlFilter({"(bad"}, {}), std::invalid_argument);
}

TEST(CrawlFilter, NumericPattern) {
    EXPECT_EQ(numeric_pattern("/calendar?page=12"), "/calendar?page=#");
    EXPECT_EQ(numeric_pattern("/2024/01/day-7"), "/#/#/day-#");
    EXPECT_EQ(numeric_pattern("/docs/intro"), "");
}

}  // namespace
}  // namespace enconvert::crawl

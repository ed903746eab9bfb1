#include "crawl/url.h"

#include <gtest/gtest.h>

namespace enconvert::crawl {
namespace {

TEST(CrawlUrl, NormalisesSchemeHostPortDotsAndFragment) {
    auto p = parse_url("HTTP://Example.COM:80/a/b/../c/./d?x=1#frag");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->url, "http://example.com/a/c/d?x=1");
    EXPECT_EQ(p->origin, "http://example.com");
    EXPECT_EQ(p->host, "example.com");
    EXPECT_EQ(p->port, 80);
    EXPECT_EQ(p->path_query, "/a/c/d?x=1");
}

TEST(CrawlUrl, KeepsAnExplicitPortAndAddsTheRootPath) {
    auto p = parse_url("https://example.com:8443");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->url, "https://example.com:8443/");
    EXPECT_EQ(p->origin, "https://example.com:8443");
    EXPECT_EQ(p->port, 8443);
    EXPECT_EQ(p->path_query, "/");
    EXPECT_EQ(parse_url("https://example.com:443/x")->url, "https://example.com/x");
}

TEST(CrawlUrl, DropsCredentials) {
    auto p = parse_url("http://user:secret@example.com/x");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->url, "http://example.com/x");
}

TEST(CrawlUrl, RefusesWhatIsNotHttp) {
    EXPECT_FALSE(parse_url("ftp://example.com/x"));
    EXPECT_FALSE(parse_url("mailto:someone@example.com"));
    EXPECT_FALSE(parse_url("javascript:void(0)"));
    EXPECT_FALSE(parse_url("/relative/only"));
    EXPECT_FALSE(parse_url(""));
}

TEST(CrawlUrl, ResolvesRelativeReferences) {
    const std::string base = "http://example.com/docs/intro?lang=en";
    EXPECT_EQ(resolve_url(base, "install")->url, "http://example.com/docs/install");
    EXPECT_EQ(resolve_url(base, "../blog/")->url, "http://example.com/blog/");
    EXPECT_EQ(resolve_url(base, "/a/../b#x")->url, "http://example.com/b");
    EXPECT_EQ(resolve_url(base, "?page=2")->url, "http://example.com/docs/intro?page=2");
    EXPECT_EQ(resolve_url(base, "//other.example:81/z")->url, "http://other.example:81/z");
    EXPECT_EQ(resolve_url(base, "  next  ")->url, "http://example.com/docs/next");
    EXPECT_FALSE(resolve_url(base, "mailto:a@b.c"));
    EXPECT_FALSE(resolve_url(base, "tel:+123"));
    EXPECT_FALSE(resolve_url(base, ""));
}

TEST(CrawlUrl, EncodesSpacesAndNonAscii) {
    auto p = resolve_url("http://example.com/", "/a b/\xc3\xa9t\xc3\xa9");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->url, "http://example.com/a%20b/%C3%A9t%C3%A9");
}

TEST(CrawlUrl, APathABrowserReadsDifferentlyIsRefused) {
    // WebKit takes "%2e" for "." in a dot segment and "\\" for "/": these
    // were checked as pages under /docs/ and rendered as /private.
    for (const char* url : {"https://h/docs/%2e%2e/private", "https://h/docs/%2E./private",
                            "https://h/docs/.%2e/private", "https://h/docs/%2e/x",
                            "https://h/docs/..\\private/x", "https://h/docs\\x"}) {
        EXPECT_FALSE(parse_url(url)) << url;
    }
    EXPECT_FALSE(resolve_url("https://h/docs/a", "%2e%2e/private"));
    EXPECT_FALSE(resolve_url("https://h/docs/a", "..\\private"));
    // Plain dot segments are removed by curl as by browsers.
    EXPECT_EQ(resolve_url("https://h/docs/a", "../private")->path_query, "/private");
}

TEST(CrawlUrl, OneSpellingOfEachEscape) {
    // A sitemap writing "%c3%a9" and links writing "é" (or "%7E" and "~")
    // named one page twice: it was rendered twice.
    const auto raw = parse_url("https://h/caf\xc3\xa9/~me?q=%7e");
    const auto lower = parse_url("https://h/caf%c3%a9/%7Eme?q=~");
    ASSERT_TRUE(raw && lower);
    EXPECT_EQ(raw->url, "https://h/caf%C3%A9/~me?q=~");
    EXPECT_EQ(lower->url, raw->url);
    EXPECT_EQ(lower->path_query, "/caf%C3%A9/~me?q=~");
    // "%2e" in other places stays escaped.
    EXPECT_EQ(parse_url("https://h/x/a%2e%2eb/%2ex")->path_query, "/x/a%2E%2Eb/%2Ex");
    // Reserved characters stay escaped, a stray "%" stays as it is.
    EXPECT_EQ(parse_url("https://h/a%2fb%3F?x=%26&y=100%")->url, "https://h/a%2Fb%3F?x=%26&y=100%");
}

}  // namespace
}  // namespace enconvert::crawl

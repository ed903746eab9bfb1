#include "crawl/documents.h"

#include <gtest/gtest.h>

#include "gzip_helper.h"

namespace enconvert::crawl {
namespace {

using testing::gzip;

const char* kUrlset = R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc> https://example.com/ </loc><lastmod>2024-01-01</lastmod></url>
  <url><loc>https://example.com/a?x=1&amp;y=2</loc></url>
  <url><priority>0.5</priority></url>
</urlset>)";

TEST(CrawlSitemap, ParsesAnUrlset) {
    auto doc = parse_sitemap(kUrlset);
    EXPECT_TRUE(doc.valid);
    EXPECT_FALSE(doc.is_index);
    ASSERT_EQ(doc.locations.size(), 2u);
    EXPECT_EQ(doc.locations[0], "https://example.com/");
    EXPECT_EQ(doc.locations[1], "https://example.com/a?x=1&y=2");
}

TEST(CrawlSitemap, ParsesAnIndexWithoutNamespace) {
    auto doc = parse_sitemap(
        "<sitemapindex><sitemap><loc>/s1.xml</loc></sitemap>"
        "<sitemap><loc>/s2.xml.gz</loc></sitemap></sitemapindex>");
    EXPECT_TRUE(doc.valid);
    EXPECT_TRUE(doc.is_index);
    ASSERT_EQ(doc.locations.size(), 2u);
    EXPECT_EQ(doc.locations[1], "/s2.xml.gz");
}

TEST(CrawlSitemap, RejectsWhatIsNotASitemap) {
    EXPECT_FALSE(parse_sitemap("<html><body>Not found</body></html>").valid);
    EXPECT_FALSE(parse_sitemap("").valid);
    EXPECT_FALSE(parse_sitemap("not xml at all").valid);
}

TEST(CrawlSitemap, DoesNotExpandExternalEntities) {
    auto doc = parse_sitemap(
        "<?xml version=\"1.0\"?><!DOCTYPE u [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<urlset><url><loc>https://example.com/&x;</loc></url></urlset>");
    for (const auto& loc : doc.locations) EXPECT_EQ(loc.find("root:"), std::string::npos);
}

TEST(CrawlSitemap, DoesNotExpandInternalEntities) {
    // One 100 KiB entity referenced 2,000 times: 200 MB once expanded (a
    // few thousand more would exhaust the worker's memory).
    std::string refs;
    for (int i = 0; i < 2000; ++i) refs += "&a;";
    const std::string xml = "<?xml version=\"1.0\"?><!DOCTYPE u [<!ENTITY a \"" +
                            std::string(100 * 1024, 'A') +
                            "\">]><urlset><url><loc>https://example.com/" + refs +
                            "</loc></url><url><loc>https://example.com/b</loc></url></urlset>";
    const auto doc = parse_sitemap(xml);
    EXPECT_TRUE(doc.valid);
    // Dropped, not read as "https://example.com/" (another page).
    EXPECT_EQ(doc.locations, std::vector<std::string>{"https://example.com/b"});
}

TEST(CrawlSitemap, ReadsAtMostTheProtocolsNumberOfEntries) {
    std::string xml = "<urlset>";
    for (std::size_t i = 0; i < kMaxSitemapEntries + 10; ++i)
        xml += "<url><loc>/p" + std::to_string(i) + "</loc></url>";
    xml += "</urlset>";
    const auto doc = parse_sitemap(xml);
    EXPECT_EQ(doc.locations.size(), kMaxSitemapEntries);
    EXPECT_TRUE(doc.entries_cut);  // the answer is then marked truncated
    xml = "<urlset>";
    for (std::size_t i = 0; i < kMaxSitemapEntries; ++i)
        xml += "<url><loc>/p" + std::to_string(i) + "</loc></url>";
    xml += "<!-- the end --></urlset>";
    EXPECT_FALSE(parse_sitemap(xml).entries_cut);  // exactly the limit: nothing left
}

// 50 MiB of empty elements (a 50 KB .gz) took gigabytes as a tree: the
// parse stops at kMaxSitemapTags, and a full sitemap stays within it.
TEST(CrawlSitemap, MarkupBeyondTheTagLimitIsLeft) {
    std::string xml = "<urlset><url><loc>https://example.com/first</loc></url>";
    for (std::size_t i = 0; i < kMaxSitemapTags; ++i) xml += "<x/>";
    xml += "<url><loc>https://example.com/late</loc></url></urlset>";
    const auto doc = parse_sitemap(xml);
    EXPECT_TRUE(doc.valid);
    EXPECT_EQ(doc.locations, std::vector<std::string>{"https://example.com/first"});
    EXPECT_TRUE(doc.entries_cut);

    xml = "<urlset>";
    for (std::size_t i = 0; i < kMaxSitemapEntries; ++i) {
        xml += "<url><loc>/p" + std::to_string(i) +
               "</loc><lastmod>2024-01-01</lastmod><changefreq>daily</changefreq>"
               "<priority>0.5</priority></url>";
    }
    xml += "</urlset>";
    const auto full = parse_sitemap(xml);
    EXPECT_EQ(full.locations.size(), kMaxSitemapEntries);
    EXPECT_FALSE(full.entries_cut);
}

TEST(CrawlHtmlLinks, MarkupBeyondThePageTagLimitIsNotRead) {
    std::string html = "<html><body><a href=\"/early\">e</a>";
    for (std::size_t i = 0; i < kMaxPageTags; ++i) html += "<br>";
    html += "<a href=\"/late\">l</a></body></html>";
    EXPECT_EQ(extract_links(html, "https://example.com/"),
              std::vector<std::string>{"https://example.com/early"});
}

TEST(CrawlSitemap, GunzipsByMagicBytes) {
    auto plain = maybe_gunzip(kUrlset);
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, kUrlset);
    auto inflated = maybe_gunzip(gzip(kUrlset));
    ASSERT_TRUE(inflated);
    EXPECT_EQ(*inflated, kUrlset);
}

TEST(CrawlSitemap, GunzipRefusesBombsAndCorruptData) {
    EXPECT_FALSE(maybe_gunzip(gzip(std::string(1 << 20, 'a')), 1000));
    std::string broken = gzip(kUrlset);
    broken.resize(broken.size() / 2);
    EXPECT_FALSE(maybe_gunzip(broken));
    std::string garbage = "\x1f\x8b" + std::string(40, 'z');
    EXPECT_FALSE(maybe_gunzip(garbage));
}

// A .gz sitemap cut at the fetch's size cap, or inflating past the limit,
// was dropped whole, and the answer said nothing of it.
TEST(CrawlSitemap, AGzipReadInPartGivesItsFirstEntries) {
    std::string xml = "<urlset>";
    for (int i = 0; i < 2000; ++i) xml += "<url><loc>/p" + std::to_string(i) + "</loc></url>";
    xml += "</urlset>";
    std::string cut_off = gzip(xml);
    cut_off.resize(cut_off.size() / 2);
    bool cut = false;
    const auto part = maybe_gunzip(cut_off, kMaxSitemapBytes, &cut);
    ASSERT_TRUE(part);
    EXPECT_TRUE(cut);
    const auto doc = parse_sitemap(*part);
    EXPECT_TRUE(doc.valid);
    EXPECT_GT(doc.locations.size(), 10u);
    EXPECT_EQ(doc.locations.front(), "/p0");

    cut = false;
    const auto capped = maybe_gunzip(gzip(xml), 1000, &cut);
    ASSERT_TRUE(capped);
    EXPECT_TRUE(cut);
    EXPECT_EQ(*capped, xml.substr(0, 1000));
    EXPECT_FALSE(maybe_gunzip("\x1f\x8b" + std::string(40, 'z'), kMaxSitemapBytes, &cut));
}

TEST(CrawlHtmlLinks, ExtractsResolvesAndSkips) {
    const std::string html = R"html(<!doctype html><html><head><title>t</title></head><body>
      <a href="b">relative</a>
      <a href="../up/#frag">up</a>
      <A HREF="/abs?q=1">abs</A>
      <a href="#top">self</a>
      <a href="mailto:x@example.com">mail</a>
      <a href="javascript:void(0)">js</a>
      <a>no href</a>
      <map><area href="/area"></map>
      <p><a href="https://other.example/x">other</a>
    </body></html>)html";
    auto links = extract_links(html, "http://example.com/dir/page");
    std::vector<std::string> want = {"http://example.com/dir/b", "http://example.com/up/",
                                     "http://example.com/abs?q=1", "http://example.com/area",
                                     "https://other.example/x"};
    EXPECT_EQ(links, want);
}

TEST(CrawlHtmlLinks, StopsAtTheLimit) {
    std::string html = "<html><body>";
    for (int i = 0; i < 100; ++i) html += "<a href=\"/p" + std::to_string(i) + "\">x</a>";
    html += "</body></html>";
    const auto links = extract_links(html, "https://example.com/", 3);
    EXPECT_EQ(links, (std::vector<std::string>{"https://example.com/p0", "https://example.com/p1",
                                               "https://example.com/p2"}));
    EXPECT_EQ(extract_links(html, "https://example.com/").size(), 100u);
}

TEST(CrawlHtmlLinks, HonoursBaseHref) {
    auto links = extract_links(
        "<html><head><base href=\"/root/\"></head><body><a href=\"x\">x</a></body></html>",
        "http://example.com/a/b/c");
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0], "http://example.com/root/x");
}

TEST(CrawlHtmlLinks, SurvivesBrokenAndDeepMarkup) {
    std::string deep;
    for (int i = 0; i < 20000; ++i) deep += "<div>";
    deep += "<a href=/deep>d</a>";
    auto links = extract_links("<p><a href='/ok'>unclosed <b>" + deep, "http://example.com/");
    ASSERT_FALSE(links.empty());
    EXPECT_EQ(links[0], "http://example.com/ok");
    EXPECT_TRUE(extract_links("", "http://example.com/").empty());
}

}  // namespace
}  // namespace enconvert::crawl

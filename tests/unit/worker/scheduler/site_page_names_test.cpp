#include "scheduler/site_page_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using enconvert::scheduler::site_page_entry_name;

namespace {

std::vector<std::string> split(const std::string& name) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = name.find('/', start);
        parts.push_back(name.substr(start, slash - start));
        if (slash == std::string::npos) return parts;
        start = slash + 1;
    }
}

// A name a ZIP reader extracts inside its target directory: relative, no
// empty, "." or ".." component, no backslash or other odd byte.
void expect_safe(const std::string& name, const std::string& url) {
    ASSERT_FALSE(name.empty()) << url;
    EXPECT_NE(name.front(), '/') << url << " → " << name;
    for (const auto& part : split(name)) {
        EXPECT_FALSE(part.empty()) << url << " → " << name;
        EXPECT_NE(part, ".") << url << " → " << name;
        EXPECT_NE(part, "..") << url << " → " << name;
        EXPECT_NE(part.front(), '.') << url << " → " << name;
    }
    for (const unsigned char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
        EXPECT_TRUE(ok) << url << " → " << name << " holds byte " << static_cast<int>(c);
    }
}

}  // namespace

TEST(SitePageNames, TheRootAndDirectoriesAreIndexPages) {
    EXPECT_EQ(site_page_entry_name("https://example.com/", "pdf"), "index.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com", "pdf"), "index.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/docs/", "pdf"), "docs/index.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/docs/api/v2/", "pdf"),
              "docs/api/v2/index.pdf");
}

TEST(SitePageNames, PagesAreNamedAfterTheirPathWithoutThePageExtension) {
    EXPECT_EQ(site_page_entry_name("https://example.com/docs/getting-started.html", "pdf"),
              "docs/getting-started.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/about", "pdf"), "about.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/Guide/Intro.HTM", "pdf"),
              "Guide/Intro.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/shop/item.php", "pdf"), "shop/item.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/news/index.aspx", "pdf"), "news/index.pdf");
    // Only a page's own extension goes: anything else stays in the name.
    EXPECT_EQ(site_page_entry_name("https://example.com/v1.2/notes", "pdf"), "v1.2/notes.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/report.pdf", "pdf"), "report.pdf.pdf");
    // The fragment is not part of the page.
    EXPECT_EQ(site_page_entry_name("https://example.com/faq#shipping", "pdf"), "faq.pdf");
}

TEST(SitePageNames, TheQueryIsAppended) {
    EXPECT_EQ(site_page_entry_name("https://example.com/list?page=2", "pdf"), "list_page_2.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/?lang=en", "pdf"), "index_lang_en.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/docs/?a=1&b=2", "pdf"),
              "docs/index_a_1_b_2.pdf");
    EXPECT_EQ(site_page_entry_name("https://example.com/search.html?q=x", "pdf"), "search_q_x.pdf");
    // Two pages that differ only in their query get different names.
    EXPECT_NE(site_page_entry_name("https://example.com/list?page=2", "pdf"),
              site_page_entry_name("https://example.com/list?page=3", "pdf"));
    // A query of nothing usable adds nothing.
    EXPECT_EQ(site_page_entry_name("https://example.com/list?", "pdf"), "list.pdf");
    // A slash in the query is no directory.
    const std::string q =
        site_page_entry_name("https://example.com/go?to=/../../etc/passwd", "pdf");
    EXPECT_EQ(split(q).size(), 1u) << q;
    expect_safe(q, "go?to=/../../etc/passwd");
}

TEST(SitePageNames, TheExtensionIsTheOneGiven) {
    EXPECT_EQ(site_page_entry_name("https://example.com/docs/a.html", "png"), "docs/a.png");
    EXPECT_EQ(site_page_entry_name("https://example.com/", "jpg"), "index.jpg");
    EXPECT_EQ(site_page_entry_name("https://example.com/blog/", "webp"), "blog/index.webp");
}

TEST(SitePageNames, NoNameLeavesTheArchive) {
    const std::vector<std::string> urls = {
        "https://example.com/%2e%2e/%2e%2e/etc/passwd",
        "https://example.com/%2E%2E/",
        "https://example.com/..%2f..%2fetc%2fpasswd",
        "https://example.com/a/../../../b",
        "https://example.com/./.hidden/..config",
        "https://example.com/...",
        "https://example.com/.../....",
        "https://example.com//double//slash//",
        "https://example.com/back\\slash\\..\\x",
        "https://example.com/%00nul/%0a%0d",
        "https://example.com/caf\xc3\xa9/\xff\xfe\x01",
        "https://example.com/ spaces /and\ttabs",
        "https://example.com/C:/Windows/system32",
        "https://example.com/.html",
        "https://example.com/%2e%2e.html",
        "https://example.com/?..",
        "https://example.com/?/",
        "not a url at all",
        "",
        "file:///etc/passwd",
    };
    for (const auto& url : urls) {
        for (const char* ext : {"pdf", "png"}) {
            const std::string name = site_page_entry_name(url, ext);
            expect_safe(name, url);
            const std::string suffix = std::string(".") + ext;
            EXPECT_EQ(name.compare(name.size() - suffix.size(), suffix.size(), suffix), 0)
                << url << " → " << name;
        }
    }
    // What cannot be parsed is the site's index, not a file named after it.
    EXPECT_EQ(site_page_entry_name("file:///etc/passwd", "pdf"), "index.pdf");
    EXPECT_EQ(site_page_entry_name("not a url at all", "pdf"), "index.pdf");
}

TEST(SitePageNames, DeepPathsAreCutToSixteenDirectories) {
    std::string path;
    for (int i = 1; i <= 30; ++i) path += "/d" + std::to_string(i);
    const std::string name = site_page_entry_name("https://example.com" + path + "/leaf", "pdf");
    const auto parts = split(name);
    ASSERT_EQ(parts.size(), 17u) << name;  // 16 directories and the page
    EXPECT_EQ(parts.front(), "d1");
    EXPECT_EQ(parts[15], "d16");
    EXPECT_EQ(parts.back(), "leaf.pdf");  // the page's own name is kept
    expect_safe(name, path);

    // A directory page as deep keeps its "index".
    const std::string dir = site_page_entry_name("https://example.com" + path + "/", "pdf");
    EXPECT_EQ(split(dir).size(), 17u) << dir;
    EXPECT_EQ(split(dir).back(), "index.pdf");

    // Exactly 16 directories are left alone.
    std::string sixteen;
    for (int i = 1; i <= 16; ++i) sixteen += "/d" + std::to_string(i);
    EXPECT_EQ(split(site_page_entry_name("https://example.com" + sixteen + "/p", "pdf")).size(),
              17u);
}

TEST(SitePageNames, LongSegmentsAreBounded) {
    const std::string name = site_page_entry_name(
        "https://example.com/" + std::string(500, 'a') + "?" + std::string(500, 'q'), "pdf");
    for (const auto& part : split(name)) EXPECT_LE(part.size(), 220u) << name;
    expect_safe(name, "long");
}

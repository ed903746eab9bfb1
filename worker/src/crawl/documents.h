// What discovery reads out of fetched documents: sitemap XML (urlset or
// sitemapindex, gzip-compressed or not) and the links of an HTML page. Both
// parsed with libxml2, never by hand; neither touches the network (no DTDs,
// no external entities).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace enconvert::crawl {

// The sitemap protocol's own limit for one file, uncompressed.
inline constexpr std::size_t kMaxSitemapBytes = 50 * 1024 * 1024;
// ... and for its entries: the first 50,000 are read.
inline constexpr std::size_t kMaxSitemapEntries = 50000;
// A <loc> longer than this is dropped (no URL we take is this long).
inline constexpr std::size_t kMaxLocBytes = 8192;
// A parse builds the document's whole tree, over 100 bytes per element:
// 50 MiB of "<x/>" took gigabytes of the worker's memory. Documents are
// read up to this many '<' (a sitemap of 50,000 URLs each with lastmod,
// changefreq and priority has about 500,000); the rest is left, as a
// sitemap cut at the size cap is (its entries count as cut).
inline constexpr std::size_t kMaxSitemapTags = 1'000'000;
// ... and an HTML page up to this many, for its links.
inline constexpr std::size_t kMaxPageTags = 300'000;

// Gunzips `data` when it starts with the gzip magic bytes (so `.xml.gz` files
// served with any content type, and sitemaps that arrive compressed twice,
// both work); returns it unchanged otherwise. nullopt when the data is
// corrupt; when it inflates beyond `limit` (a decompression bomb) or ends
// early (cut at the fetch's size cap): nullopt too, or, given `cut`, what
// inflated up to there (at most `limit` bytes) with *cut set, as a sitemap
// read in part still gives its first entries.
std::optional<std::string> maybe_gunzip(const std::string& data,
                                        std::size_t limit = kMaxSitemapBytes, bool* cut = nullptr);

struct SitemapDocument {
    bool valid = false;                  // an urlset or a sitemapindex
    bool is_index = false;               // sitemapindex: `locations` are sitemaps
    std::vector<std::string> locations;  // <loc> texts, trimmed, in document order
    bool entries_cut = false;  // entries past kMaxSitemapEntries (or kMaxSitemapTags) were left
};

// Parses a sitemap (already gunzipped). Elements are matched by local name so
// files that forget the sitemaps.org namespace still work.
SitemapDocument parse_sitemap(const std::string& xml);

// The href of every <a> and <area> of an HTML document, in document order,
// resolved against `page_url` (or the document's <base href>) and normalised;
// links that are not http(s) (mailto:, javascript:, …) are left out. Only
// the first `max_links` hrefs are looked at: resolving each of a hostile
// page's hundreds of thousands would cost seconds that nothing else bounds.
std::vector<std::string> extract_links(const std::string& html, const std::string& page_url,
                                       std::size_t max_links = SIZE_MAX);

}  // namespace enconvert::crawl

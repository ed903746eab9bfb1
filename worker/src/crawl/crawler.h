// Website discovery: which pages of a site a website capture
// renders. Reads the site through a Fetcher only (so through the outbound
// address policy), never renders anything and keeps no state between calls.
// See docs/website-capture.md for the behaviour in prose.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "crawl/fetcher.h"

namespace enconvert::crawl {

enum class CrawlMode { sitemap, full, automatic };

struct CrawlOptions {
    std::string start_url;  // absolute http(s) URL
    CrawlMode mode = CrawlMode::automatic;
    std::size_t max_pages = 100;             // cut at the limit, the answer says so
    int max_depth = 3;                       // full crawl: link hops from the start page
    std::chrono::seconds page_budget{15};    // per fetch, redirects included
    std::chrono::seconds total_budget{120};  // the whole discovery
    // Regular expressions (url_pattern.h) searched in the URL's path+query; see
    // url_filter.h for the defaults used when exclude_patterns is not given
    // (`exclude_given`: the job gave the field, an empty list included).
    std::vector<std::string> include_patterns, exclude_patterns;
    bool exclude_given = false;
    // The job sends auth, headers or cookies, which go to the start URL's
    // origin only: a start page redirecting to another origin does not move
    // the capture there (without credentials it does: http → https,
    // example.com → www.example.com).
    bool carries_credentials = false;
    std::size_t max_kept_url_bytes = 64 * 1024 * 1024;  // kMaxKeptUrlBytes; tests set less
};

struct CrawlResult {
    std::vector<std::string> urls;     // in discovery order, normalised, unique
    std::string method;                // "sitemap" or "full_crawl"
    std::size_t total_discovered = 0;  // before the page limit (full crawl: known so far)
    bool truncated = false;            // cut at max_pages, a budget or a stop
    // "" on success; "invalid_url", "invalid_options", "invalid_pattern",
    // "no_sitemap" (sitemap mode, none found), "no_pages", "cancelled",
    // "internal_error". `error` is a sentence for the job's answer.
    std::string error_code, error;
};

// Discovers the pages of options.start_url's site. Stops early (error_code
// "cancelled", the pages found so far kept) when `stop` becomes true; give
// the CurlFetcher the same flag (Settings::cancel) so a fetch in flight ends
// too instead of running out its page budget. Never throws. Reentrant: one
// call per thread, each with its own Fetcher.
CrawlResult discover(const CrawlOptions& options, Fetcher& fetcher, const std::atomic<bool>& stop);

// Limits that are not options (documented in docs/website-capture.md).
inline constexpr std::size_t kMaxSitemapFiles = 50;     // sitemaps read, indexes included
inline constexpr int kMaxSitemapIndexDepth = 2;         // index → index → urlset
inline constexpr std::size_t kMaxSitemapUrls = 200000;  // counted for total_discovered
inline constexpr int kTrapCap = 5;  // self-similar numeric URLs followed per pattern
inline constexpr std::size_t kMaxLinksPerPage = 5000;  // links of one page looked at
// A discovered URL longer than the API takes (docs/api.md, URL rules) is
// skipped: a short href resolved against a long page URL can grow to that.
inline constexpr std::size_t kMaxUrlBytes = 2048;
// The URLs a discovery keeps (sets, queue; 64 bytes counted per copy for the
// container's own) stay under CrawlOptions::max_kept_url_bytes, 64 MiB: a
// site's links or sitemaps stop being taken there, and the answer is
// truncated. 200,000 sitemap entries of 2 KiB would otherwise be 400 MB in
// the worker.

// The trap detector's key: the path+query with every run of digits replaced
// by '#' ("/calendar?page=12" → "/calendar?page=#"); empty when there are no
// digits.
std::string numeric_pattern(const std::string& path_query);

}  // namespace enconvert::crawl

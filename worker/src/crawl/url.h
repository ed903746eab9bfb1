// URL handling for discovery: parsing, resolution and normalisation through
// libcurl's URL API (CURLU), so the crawler agrees with the fetcher about what
// a URL means. Only absolute http(s) URLs with a host come out of here.
#pragma once

#include <optional>
#include <string>

namespace enconvert::crawl {

struct ParsedUrl {
    std::string url;         // normalised, without fragment or credentials
    std::string origin;      // scheme://host[:port], the default port left out
    std::string host;        // as in the URL (IPv6 literals keep their brackets)
    int port = 0;            // explicit or the scheme's default
    std::string path_query;  // "/path?query": what robots.txt and patterns see
};

// Normalises an absolute URL: scheme and host lower case, default port
// removed, dot segments resolved, fragment and user:password dropped, bytes
// outside printable ASCII percent-encoded. nullopt for anything but http(s).
std::optional<ParsedUrl> parse_url(const std::string& url);

// A path (or path pattern) spelled as parse_url spells paths: raw bytes
// escaped, escapes normalised (util::normalize_percent_escapes).
std::string canonical_escapes(const std::string& path);

// Resolves `reference` (an href, a Location, a sitemap <loc>) against `base`
// and normalises the result as parse_url does.
std::optional<ParsedUrl> resolve_url(const std::string& base, const std::string& reference);

}  // namespace enconvert::crawl

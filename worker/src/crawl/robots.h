// robots.txt (RFC 9309) for the crawler: the group for our product token
// "enconvert" when the file has one, else the "*" group (a specific group
// replaces "*", it does not add to it); Allow/Disallow with `*` and a
// trailing `$`; the longest matching rule wins and Allow wins a tie.
#pragma once

#include <string>
#include <vector>

namespace enconvert::crawl {

inline constexpr const char* kRobotsProductToken = "enconvert";

class RobotsRules {
  public:
    // Everything allowed: no robots.txt (4xx) or an unusable answer.
    static RobotsRules allow_all() { return RobotsRules(); }
    // Nothing allowed: RFC 9309 2.3.1.3/2.3.1.4, the file was unreachable
    // because of a server or network error.
    static RobotsRules disallow_all();
    // Parses a robots.txt body for `product_token` (matched case-insensitively).
    static RobotsRules parse(const std::string& body,
                             const std::string& product_token = kRobotsProductToken);

    // `path_query`: "/path?query" as sent to the server.
    bool allowed(const std::string& path_query) const;
    // Sitemap: lines, whatever group they appear in (they belong to none).
    const std::vector<std::string>& sitemaps() const { return sitemaps_; }

  private:
    struct Rule {
        bool allow = false;
        std::string pattern;
    };
    std::vector<Rule> rules_;
    std::vector<std::string> sitemaps_;
};

// True when `pattern` (robots syntax: `*` any run, `$` at the end anchors)
// matches a prefix of `path_query` (the whole of it with `$`).
bool robots_pattern_matches(const std::string& pattern, const std::string& path_query);

}  // namespace enconvert::crawl

// Which discovered URLs become pages: include/exclude regular expressions
// (url_pattern.h: PCRE2, bounded) searched — not anchored, use ^ and $ for
// that — in the URL's path and query ("/docs/intro?lang=en"). A URL is
// kept when it matches at least one include pattern (or none are given)
// and no exclude pattern.
//
// When the caller gives no exclude patterns, default_exclude_patterns()
// apply (given exclude patterns replace them, an empty list given too;
// include patterns do not):
//   - assets: paths ending in an image, style sheet, script, font, media,
//     archive, document or feed extension (.png .css .js .woff2 .pdf .zip
//     .mp4 .docx .xml .rss …);
//   - pages that are not content: login/logout/sign-in/sign-up/register,
//     admin (also wp-admin, wp-login.php), cart/basket/checkout and
//     account/my-account/password-reset path segments;
//   - sort and filter query parameters (sort, order, orderby, sort_by, dir,
//     direction, filter, filter[…]) and session identifiers in URLs
//     (sid, sessionid, phpsessid, jsessionid), which multiply one page into
//     many.
// The same list is in docs/website-capture.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crawl/url_pattern.h"

namespace enconvert::crawl {

inline constexpr std::size_t kMaxPatternLength = 500;
// Longer paths are skipped outright: they are traps more often than pages,
// and every pattern's search costs in proportion to the path.
inline constexpr std::size_t kMaxPathQueryLength = 2048;

// Why `pattern` cannot be used (too long, empty, does not compile), or
// nullopt when it can. For intake's validation of include/exclude_patterns.
std::optional<std::string> pattern_error(const std::string& pattern);

const std::vector<std::string>& default_exclude_patterns();

class UrlFilter {
  public:
    // Throws std::invalid_argument (with pattern_error's sentence) for a bad pattern.
    // `exclude_given`: the caller gave `exclude` (an empty list included),
    // which replaces the defaults.
    UrlFilter(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
              bool exclude_given = false);
    // A pattern that gives up on a path (url_pattern.h) decides the safe
    // way: an include pattern does not match, an exclude pattern does.
    bool accepts(const std::string& path_query) const;

  private:
    std::vector<UrlPattern> include_;
    std::vector<UrlPattern> exclude_;
};

}  // namespace enconvert::crawl

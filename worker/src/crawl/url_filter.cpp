#include "crawl/url_filter.h"

#include <stdexcept>

namespace enconvert::crawl {

namespace {

bool search(const UrlPattern& pattern, const std::string& text, bool on_giving_up) {
    const UrlPattern::Result r = pattern.search(text);
    return r == UrlPattern::Result::gave_up ? on_giving_up : r == UrlPattern::Result::match;
}

// The pattern compiled, or nothing and (in `why`) why it cannot be used.
std::optional<UrlPattern> compile(const std::string& pattern, bool ignore_case, std::string& why) {
    if (pattern.empty()) {
        why = "pattern is empty";
        return std::nullopt;
    }
    if (pattern.size() > kMaxPatternLength) {
        why = "pattern is longer than " + std::to_string(kMaxPatternLength) + " characters";
        return std::nullopt;
    }
    try {
        return UrlPattern(pattern, ignore_case);
    } catch (const std::invalid_argument& e) {
        why = "pattern is not a valid regular expression: " + std::string(e.what());
        return std::nullopt;
    }
}

}  // namespace

std::optional<std::string> pattern_error(const std::string& pattern) {
    std::string why;
    if (compile(pattern, false, why)) return std::nullopt;
    return why;
}

const std::vector<std::string>& default_exclude_patterns() {
    static const std::vector<std::string> patterns = {
        // assets and downloads, by extension at the end of the path
        R"(\.(jpe?g|png|gif|webp|avif|svg|ico|bmp|tiff?|css|js|mjs|map|json|xml|txt|woff2?|ttf|otf|eot|pdf|zip|gz|tgz|tar|rar|7z|bz2|xz|dmg|exe|msi|apk|deb|rpm|iso|mp3|mp4|m4a|wav|ogg|webm|avi|mov|mkv|docx?|xlsx?|pptx?|csv|rss|atom)(\?|$))",
        // login, admin, cart and account pages, as a path segment
        R"(/(login|log-in|signin|sign-in|logout|log-out|signout|sign-out|register|signup|sign-up|admin|administrator|wp-admin|wp-login\.php|cart|basket|checkout|account|my-account|password-reset|reset-password)(/|\?|\.|$))",
        // sort/filter parameters and session identifiers
        R"([?&](sort|order|orderby|order_by|sort_by|sortby|dir|direction|filter|filters)(=|\[))",
        R"([?&;](sid|sessionid|phpsessid|jsessionid)=)",
    };
    return patterns;
}

UrlFilter::UrlFilter(const std::vector<std::string>& include,
                     const std::vector<std::string>& exclude, bool exclude_given) {
    auto add = [](std::vector<UrlPattern>& into, const std::string& p, bool ignore_case) {
        std::string why;
        std::optional<UrlPattern> compiled = compile(p, ignore_case, why);
        if (!compiled) throw std::invalid_argument(p + ": " + why);
        into.push_back(std::move(*compiled));
    };
    for (const auto& p : include) add(include_, p, false);
    if (exclude.empty() && !exclude_given) {
        // Defaults ignore case: /Login and .PNG are the same thing to a site.
        for (const auto& p : default_exclude_patterns()) add(exclude_, p, true);
    } else {
        for (const auto& p : exclude) add(exclude_, p, false);
    }
}

bool UrlFilter::accepts(const std::string& path_query) const {
    if (path_query.size() > kMaxPathQueryLength) return false;
    bool included = include_.empty();
    for (const auto& re : include_) {
        if (search(re, path_query, false)) {
            included = true;
            break;
        }
    }
    if (!included) return false;
    for (const auto& re : exclude_) {
        if (search(re, path_query, true)) return false;
    }
    return true;
}

}  // namespace enconvert::crawl

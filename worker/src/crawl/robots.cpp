#include "crawl/robots.h"

#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <string_view>

#include "crawl/url.h"
#include "util/ascii.h"

namespace enconvert::crawl {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

// RFC 9309 2.5: crawlers must parse at least 500 KiB; beyond that a file is
// almost certainly not a robots.txt anyone maintains by hand.
constexpr std::size_t kMaxRobotsBytes = 512 * 1024;

}  // namespace

RobotsRules RobotsRules::disallow_all() {
    RobotsRules r;
    r.rules_.push_back(Rule{false, "/"});
    return r;
}

RobotsRules RobotsRules::parse(const std::string& raw, const std::string& product_token) {
    std::string body = raw.substr(0, kMaxRobotsBytes);
    // A UTF-8 byte order mark made the first line's key "\xEF\xBB\xBFuser-agent":
    // no group, and every rule after it was dropped (the whole site allowed).
    if (body.rfind("\xEF\xBB\xBF", 0) == 0) body.erase(0, 3);
    const std::string token = util::ascii_lower(product_token);

    struct Group {
        std::vector<std::string> agents;
        std::vector<Rule> rules;
    };
    std::vector<Group> groups;
    std::vector<std::string> sitemaps;
    bool in_agent_lines = false;  // consecutive user-agent lines share one group

    std::size_t pos = 0;
    while (pos <= body.size()) {
        auto end = body.find_first_of("\r\n", pos);
        if (end == std::string::npos) end = body.size();
        std::string line = body.substr(pos, end - pos);
        pos = end + 1;
        if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = util::ascii_lower(trim(line.substr(0, colon)));
        const std::string value = trim(line.substr(colon + 1));
        if (key == "user-agent") {
            if (!in_agent_lines || groups.empty()) groups.emplace_back();
            groups.back().agents.push_back(util::ascii_lower(value));
            in_agent_lines = true;
        } else if (key == "allow" || key == "disallow") {
            in_agent_lines = false;
            if (groups.empty()) continue;  // rules before any user-agent belong to no one
            // An empty Disallow allows everything: no rule at all.
            if (value.empty()) continue;
            // Written as the crawler writes paths (crawl/url.h): raw bytes
            // escaped, escapes normalised; "/%7euser/" and "/café/" match
            // the links that spell them so.
            groups.back().rules.push_back(Rule{key == "allow", canonical_escapes(value)});
        } else if (key == "sitemap") {
            if (!value.empty()) sitemaps.push_back(value);
        } else {
            in_agent_lines = false;  // crawl-delay and others end the agent lines too
        }
    }

    RobotsRules out;
    out.sitemaps_ = std::move(sitemaps);
    // RFC 9309 2.2.1: every group naming our token, merged; only when there is
    // none, every "*" group.
    for (const std::string& wanted : {token, std::string("*")}) {
        for (const auto& g : groups) {
            if (std::find(g.agents.begin(), g.agents.end(), wanted) != g.agents.end()) {
                out.rules_.insert(out.rules_.end(), g.rules.begin(), g.rules.end());
            }
        }
        bool matched = std::any_of(groups.begin(), groups.end(), [&](const Group& g) {
            return std::find(g.agents.begin(), g.agents.end(), wanted) != g.agents.end();
        });
        if (matched) break;
    }
    return out;
}

bool robots_pattern_matches(const std::string& pattern, const std::string& path) {
    std::string_view pat = pattern;
    const bool anchored = !pat.empty() && pat.back() == '$';
    if (anchored) pat.remove_suffix(1);
    const std::string_view text = path;
    // The pieces between `*`s, each matched at its leftmost place after the
    // one before (that choice never loses a match). glibc's memmem (two-way
    // algorithm) finds each piece in time linear in path and piece, without
    // building tables: hostile rules ("/*aaaa…ab") cost O(path + pattern) per
    // rule, not O(path x pattern) as a backtracking matcher does.
    std::size_t at = 0;  // where the text still to match starts
    std::size_t piece_start = 0;
    for (bool first = true;; first = false) {
        const std::size_t star = pat.find('*', piece_start);
        const bool last = star == std::string_view::npos;
        const std::string_view piece =
            pat.substr(piece_start, last ? std::string_view::npos : star - piece_start);
        if (first) {
            if (text.substr(0, piece.size()) != piece) return false;
            at = piece.size();
            if (last) return !anchored || at == text.size();
        } else if (last && anchored) {
            // The final piece ends the path.
            return text.size() - at >= piece.size() &&
                   text.substr(text.size() - piece.size()) == piece;
        } else if (!piece.empty()) {
            const void* found =
                memmem(text.data() + at, text.size() - at, piece.data(), piece.size());
            if (found == nullptr) return false;
            at = static_cast<std::size_t>(static_cast<const char*>(found) - text.data()) +
                 piece.size();
        }
        if (last) return true;  // not anchored: a prefix match is enough
        piece_start = star + 1;
    }
}

bool RobotsRules::allowed(const std::string& path_query) const {
    const Rule* best = nullptr;
    for (const auto& r : rules_) {
        if (!robots_pattern_matches(r.pattern, path_query)) continue;
        if (best == nullptr || r.pattern.size() > best->pattern.size() ||
            (r.pattern.size() == best->pattern.size() && r.allow && !best->allow)) {
            best = &r;
        }
    }
    return best == nullptr || best->allow;
}

}  // namespace enconvert::crawl

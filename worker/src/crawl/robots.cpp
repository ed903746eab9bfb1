#include "crawl/robots.h"

#include <algorithm>
#include <cctype>

#include "crawl/url.h"

namespace enconvert::crawl {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
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
    const std::string body = raw.substr(0, kMaxRobotsBytes);
    const std::string token = lower(product_token);

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
        const std::string key = lower(trim(line.substr(0, colon)));
        const std::string value = trim(line.substr(colon + 1));
        if (key == "user-agent") {
            if (!in_agent_lines || groups.empty()) groups.emplace_back();
            groups.back().agents.push_back(lower(value));
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
    std::string pat = pattern;
    const bool anchored = !pat.empty() && pat.back() == '$';
    if (anchored) pat.pop_back();
    // Iterative wildcard match with one backtrack point (the last `*`): linear
    // enough for robots patterns, no recursion to exhaust the stack.
    std::size_t p = 0, s = 0, star = std::string::npos, star_s = 0;
    while (s < path.size()) {
        if (p == pat.size()) {
            if (!anchored) return true;  // a prefix match is enough
        } else if (pat[p] == '*') {
            star = p++;
            star_s = s;
            continue;
        } else if (pat[p] == path[s]) {
            ++p;
            ++s;
            continue;
        }
        if (star == std::string::npos) return false;
        p = star + 1;
        s = ++star_s;
    }
    while (p < pat.size() && pat[p] == '*') ++p;
    return p == pat.size();
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

// One include/exclude pattern of a website capture, compiled by PCRE2 and
// searched with a bounded amount of work. The patterns come from the
// client, the paths from the site being crawled: with a backtracking
// engine and no bound, "^/(a|a)*$" against a 30-character path runs for
// minutes (std::regex did, holding a discoverer thread for every tenant).
// PCRE2 counts its backtracking steps and gives up at kMatchLimit.
//
// The syntax is Perl's (PCRE2), set to read the constructs where
// ECMAScript differs as ECMAScript does: \u escapes, [] and [^], an unset
// back-reference matching the empty string, and $ only at the very end.
#pragma once

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include <cstdint>
#include <memory>
#include <string_view>

namespace enconvert::crawl {

// Backtracking steps of one search before it gives up: the default
// patterns take a few thousand on a 2 KB path, a runaway one stops after
// ~15 ms of CPU.
inline constexpr std::uint32_t kMatchLimit = 100000;

class UrlPattern {
  public:
    enum class Result { match, no_match, gave_up };

    // Throws std::invalid_argument with PCRE2's reason and the offset.
    explicit UrlPattern(std::string_view pattern, bool ignore_case = false);

    // Searches (not anchored) `text`; gave_up when the pattern needed more
    // than kMatchLimit steps (or more memory than allowed) on it.
    Result search(std::string_view text) const;

  private:
    struct CodeFree {
        void operator()(pcre2_code* c) const { pcre2_code_free(c); }
    };
    struct ContextFree {
        void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
    };

    std::unique_ptr<pcre2_code, CodeFree> code_;
    std::unique_ptr<pcre2_match_context, ContextFree> limits_;
};

}  // namespace enconvert::crawl

#include "crawl/url_pattern.h"

#include <new>
#include <stdexcept>
#include <string>

namespace enconvert::crawl {

namespace {

constexpr std::uint32_t kDepthLimit = 10000;    // nested backtracking frames
constexpr std::uint32_t kHeapLimitKiB = 20480;  // backtracking memory, per search

constexpr std::uint32_t kEcmaScriptReadings =
    PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF | PCRE2_DOLLAR_ENDONLY;

struct MatchDataFree {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};

std::string error_text(int code) {
    PCRE2_UCHAR buffer[256];
    if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0)
        return "error " + std::to_string(code);
    return reinterpret_cast<const char*>(buffer);
}

}  // namespace

UrlPattern::UrlPattern(std::string_view pattern, bool ignore_case) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              kEcmaScriptReadings | (ignore_case ? PCRE2_CASELESS : 0u), &error,
                              &offset, nullptr));
    if (!code_) {
        throw std::invalid_argument(error_text(error) + " at offset " + std::to_string(offset));
    }
    limits_.reset(pcre2_match_context_create(nullptr));
    if (!limits_) throw std::bad_alloc();
    pcre2_set_match_limit(limits_.get(), kMatchLimit);
    pcre2_set_depth_limit(limits_.get(), kDepthLimit);
    pcre2_set_heap_limit(limits_.get(), kHeapLimitKiB);
}

UrlPattern::Result UrlPattern::search(std::string_view text) const {
    // One ovector pair: only whether it matched is read.
    std::unique_ptr<pcre2_match_data, MatchDataFree> data(pcre2_match_data_create(1, nullptr));
    if (!data) throw std::bad_alloc();
    const int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                               0, 0, data.get(), limits_.get());
    if (rc >= 0) return Result::match;
    if (rc == PCRE2_ERROR_NOMATCH) return Result::no_match;
    return Result::gave_up;  // match, depth or heap limit, or no memory
}

}  // namespace enconvert::crawl

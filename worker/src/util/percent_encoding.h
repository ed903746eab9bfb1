// Percent-encoding (RFC 3986, upper-case hex) of every byte a caller does
// not keep: SigV4's canonical URIs and the crawler's raw links differ only
// in which bytes stay as they are.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace enconvert::util {

template <typename Keep>
std::string percent_encode(std::string_view in, Keep keep) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(in.size());
    for (unsigned char c : in) {
        if (keep(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0x0f];
        }
    }
    return out;
}

// RFC 3986 §6.2.2 normalisation of the escapes already in `in`: hex digits
// in upper case, and an escaped letter, digit, "-", "_" or "~" written as
// itself, so that one resource has one spelling. "%2E" stays: decoded after
// the dot segments were removed, it would make a new "..". Everything else,
// a stray "%" included, stays as it is.
inline std::string normalize_percent_escapes(std::string_view in) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    auto value = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const int hi = i + 2 < in.size() && in[i] == '%' ? value(in[i + 1]) : -1;
        const int lo = hi >= 0 ? value(in[i + 2]) : -1;
        if (lo < 0) {
            out += in[i];
            continue;
        }
        const auto c = static_cast<unsigned char>(hi * 16 + lo);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[hi];
            out += kHex[lo];
        }
        i += 2;
    }
    return out;
}

}  // namespace enconvert::util

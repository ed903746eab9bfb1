// Percent-encoding (RFC 3986, upper-case hex) of every byte a caller does
// not keep: SigV4's canonical URIs and the crawler's raw links differ only
// in which bytes stay as they are.
#pragma once

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

}  // namespace enconvert::util

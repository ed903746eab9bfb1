// ASCII case folding, independent of the C locale (std::tolower follows
// it): header names, schemes, hosts, file extensions and option values are
// ASCII by their specifications.
#pragma once

#include <string>
#include <string_view>

namespace enconvert::util {

inline std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace enconvert::util

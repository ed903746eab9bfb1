// Reading optional members of API answers without trusting their types.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace enconvert::cli {

// object[name] when it is a string, "" otherwise (absent, null, another type).
template <typename Json>
std::string string_member(const Json& object, const char* name) {
    if (!object.is_object()) return "";
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->template get<std::string>() : std::string();
}

}  // namespace enconvert::cli

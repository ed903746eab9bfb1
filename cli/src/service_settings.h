// Which service to talk to and with which key: ENCONVERT_URL (default
// http://127.0.0.1:8080, where `make run` listens) and ENCONVERT_API_KEY.
// The key is never taken from the command line, where `ps` would show it.
#pragma once

#include <functional>
#include <string>

namespace enconvert::cli {

inline constexpr const char* kDefaultBaseUrl = "http://127.0.0.1:8080";

struct ServiceSettings {
    std::string base_url;  // scheme://host[:port][/prefix], no trailing '/'
    std::string api_key;
};

// Reads the two variables through `getenv` (std::getenv in main). A missing
// key, or one with characters no key has, throws CliError(authentication);
// an unusable URL throws CliError(usage).
ServiceSettings settings_from_environment(const std::function<const char*(const char*)>& getenv);

// `base_url` checked (http or https, a host, no query or fragment) and cut
// to scheme://host[:port][/prefix] without the trailing '/'.
std::string normalized_base_url(const std::string& base_url);

// base_url + "/" + path (path without its leading '/').
std::string api_url(const ServiceSettings& settings, const std::string& path);

}  // namespace enconvert::cli

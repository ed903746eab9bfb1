#include "config/curve_keys.h"

#include <zmq.h>

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "config/worker_config.h"

namespace enconvert::config {

namespace {

constexpr std::size_t kZ85KeyLength = 40;
constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

}  // namespace

bool is_z85_key(std::string_view text) {
    if (text.size() != kZ85KeyLength) return false;
    for (const char c : text) {
        if (kZ85Alphabet.find(c) == std::string_view::npos) return false;
    }
    return true;
}

bool curve_supported() {
    return zmq_has("curve") != 0;
}

CurveKeyPair generate_curve_keypair() {
    std::array<char, kZ85KeyLength + 1> pub{};
    std::array<char, kZ85KeyLength + 1> sec{};
    if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
        throw std::runtime_error(std::string("cannot generate a CURVE keypair: ") +
                                 zmq_strerror(zmq_errno()));
    }
    return CurveKeyPair{pub.data(), sec.data()};
}

CurveKeyPair read_curve_secret_key_file(const std::string& path, const char* setting) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(std::string("cannot read ") + setting + " '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string key = trim(ss.str());
    if (!is_z85_key(key)) {
        throw ConfigError(std::string(setting) + " '" + path +
                          "' does not hold a CURVE secret key (40 Z85 characters, as "
                          "`enconvert-worker curve-keygen` writes)");
    }
    if (!curve_supported()) {
        throw ConfigError(std::string(setting) +
                          " is set but this libzmq was built without CURVE support");
    }
    std::array<char, kZ85KeyLength + 1> pub{};
    if (zmq_curve_public(pub.data(), key.c_str()) != 0) {
        throw ConfigError(std::string(setting) + " '" + path + "': cannot derive the public key");
    }
    return CurveKeyPair{pub.data(), key};
}

std::set<std::string> read_curve_allowed_clients(const std::string& path) {
    constexpr const char* kSetting = "curve_allowed_clients_file";
    std::ifstream in(path);
    if (!in) throw ConfigError(std::string("cannot read ") + kSetting + " '" + path + "'");
    std::set<std::string> keys;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string text = trim(line);
        if (text.empty() || text == "#" || text.rfind("# ", 0) == 0) continue;
        if (!is_z85_key(text)) {
            throw ConfigError(std::string(kSetting) + " '" + path + "' line " +
                              std::to_string(number) +
                              ": not a CURVE public key (40 Z85 characters) nor a comment "
                              "(\"# ...\")");
        }
        keys.insert(text);
    }
    if (keys.empty()) {
        throw ConfigError(std::string(kSetting) + " '" + path +
                          "' lists no client key: no nginx host could connect");
    }
    return keys;
}

}  // namespace enconvert::config

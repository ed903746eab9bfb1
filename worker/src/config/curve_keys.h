// CURVE key files (libzmq's built-in encryption and authentication between
// nginx hosts and worker hosts): Z85 text, as `enconvert-worker curve-keygen`
// writes it. docs/scaling.md describes the keys and where each one goes.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace enconvert::config {

// A CURVE keypair, both halves as 40 Z85 characters.
struct CurveKeyPair {
    std::string public_key;
    std::string secret_key;
};

// True when `text` is a CURVE key in Z85: 40 characters of the Z85 alphabet.
bool is_z85_key(std::string_view text);

// Whether this libzmq can do CURVE at all (built with libsodium/tweetnacl).
bool curve_supported();

// A fresh keypair (zmq_curve_keypair). Throws std::runtime_error without
// CURVE support.
CurveKeyPair generate_curve_keypair();

// Reads a secret key file (the key, trailing whitespace ignored) and derives
// its public key. `setting` names the config key in errors. Throws
// ConfigError; never puts the file's content in a message.
CurveKeyPair read_curve_secret_key_file(const std::string& path, const char* setting);

// Reads the allowed client public keys: one Z85 key per line; empty lines
// and lines that start with "# " (or are "#") are comments. Throws
// ConfigError naming the line of anything else, or for a file without keys.
std::set<std::string> read_curve_allowed_clients(const std::string& path);

}  // namespace enconvert::config

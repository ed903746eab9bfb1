// API key format, hashing, and an authenticating lookup with a short cache.
#pragma once

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db/key_repository.h"

namespace enconvert::auth {

inline constexpr std::string_view kKeyPrefix = "sk_live_";
inline constexpr std::size_t kKeyRandomChars = 40;
inline constexpr std::size_t kListedPrefixLength = 12;  // "sk_live_ab12"

// "sk_live_" + 40 base62 characters (~238 random bits, unbiased).
std::string generate_api_key();
// What operators see in listings: the first 12 characters.
std::string key_listing_prefix(std::string_view key);
// Lowercase hex SHA-256 of the whole key, as stored in api_keys.key_hash.
std::string key_hash_hex(std::string_view key);

// Positive lookups are cached for at most `ttl` (≤ 5 s) so a revoked key
// stops working within seconds while hot keys skip the database. Unknown keys
// are not cached. One instance per thread (it queries that thread's
// connection); not thread-safe.
class KeyCache {
  public:
    using clock = std::chrono::steady_clock;
    explicit KeyCache(clock::duration ttl = std::chrono::seconds(5),
                      std::size_t max_entries = 10000)
        : ttl_(ttl), max_entries_(max_entries) {}

    std::optional<db::ApiKeyIdentity> lookup(pqxx::connection& conn, std::string_view key);

  private:
    struct Entry {
        db::ApiKeyIdentity identity;
        clock::time_point expires;
    };
    clock::duration ttl_;
    std::size_t max_entries_;
    std::unordered_map<std::string, Entry> entries_;  // key hash → identity
};

}  // namespace enconvert::auth

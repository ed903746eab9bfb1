#include "auth/api_keys.h"

#include "util/crypto.h"

namespace enconvert::auth {

std::string generate_api_key() {
    static constexpr char alphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string key(kKeyPrefix);
    while (key.size() < kKeyPrefix.size() + kKeyRandomChars) {
        unsigned char buf[64];
        util::random_bytes(buf, sizeof buf);
        for (unsigned char b : buf) {
            // Rejection sampling: 248 = 4 * 62, so values below it map to
            // base62 without bias.
            if (b < 248 && key.size() < kKeyPrefix.size() + kKeyRandomChars) {
                key += alphabet[b % 62];
            }
        }
    }
    return key;
}

std::string key_listing_prefix(std::string_view key) {
    return std::string(key.substr(0, kListedPrefixLength));
}

std::string key_hash_hex(std::string_view key) {
    return util::sha256_hex(key);
}

std::optional<db::ApiKeyIdentity> KeyCache::lookup(pqxx::connection& conn, std::string_view key) {
    const std::string hash = key_hash_hex(key);
    const auto now = clock::now();
    if (auto it = entries_.find(hash); it != entries_.end()) {
        if (it->second.expires > now) return it->second.identity;
        entries_.erase(it);
    }
    auto found = db::find_active_key(conn, hash);
    if (found) {
        // Crude bound on memory: a full cache is simply dropped; it refills
        // from the database within one TTL.
        if (entries_.size() >= max_entries_) entries_.clear();
        entries_[hash] = Entry{*found, now + ttl_};
    }
    return found;
}

}  // namespace enconvert::auth

// SQL for accounts and API keys. Keys are stored only as SHA-256 hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace enconvert::db {

struct ApiKeyIdentity {
    std::int64_t key_id = 0;
    std::int64_t account_id = 0;
    std::string account_public_id;
};

struct CreatedKey {
    std::int64_t key_id = 0;
    std::int64_t account_id = 0;
    std::string account_public_id;
};

struct KeyRow {
    std::int64_t id = 0;
    std::string account;
    std::string prefix;
    std::string created_at;
    std::optional<std::string> revoked_at;
};

// The active (not revoked) key with this SHA-256 hash, if any.
std::optional<ApiKeyIdentity> find_active_key(pqxx::connection& conn,
                                              const std::string& key_hash_hex);

// Creates the account (with a fresh public id) if needed, then the key.
CreatedKey create_key(pqxx::connection& conn, const std::string& account_name,
                      const std::string& key_hash_hex, const std::string& prefix);

std::vector<KeyRow> list_keys(pqxx::connection& conn);

// Returns false if there is no such key or it was already revoked.
bool revoke_key(pqxx::connection& conn, std::int64_t key_id);

}  // namespace enconvert::db

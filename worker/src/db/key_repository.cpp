#include "db/key_repository.h"

#include "util/ids.h"

namespace enconvert::db {

namespace {
// Timestamps leave the database already in RFC 3339 UTC form.
constexpr const char* kRfc3339 = R"('YYYY-MM-DD"T"HH24:MI:SS"Z"')";
}  // namespace

std::optional<ApiKeyIdentity> find_active_key(pqxx::connection& conn,
                                              const std::string& key_hash_hex) {
    pqxx::read_transaction tx(conn);
    const pqxx::result r = tx.exec_params(
        "SELECT k.id, k.account_id, a.public_id FROM api_keys k "
        "JOIN accounts a ON a.id = k.account_id "
        "WHERE k.key_hash = decode($1, 'hex') AND k.revoked_at IS NULL",
        key_hash_hex);
    tx.commit();
    if (r.empty()) return std::nullopt;
    return ApiKeyIdentity{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>(),
                          r[0][2].as<std::string>()};
}

CreatedKey create_key(pqxx::connection& conn, const std::string& account_name,
                      const std::string& key_hash_hex, const std::string& prefix) {
    pqxx::work tx(conn);
    // ON CONFLICT keeps two concurrent "key create" runs for the same new
    // account from failing; the no-op update makes RETURNING yield the row.
    const pqxx::row acc = tx.exec_params1(
        "INSERT INTO accounts (public_id, name) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name "
        "RETURNING id, public_id",
        util::new_account_public_id(), account_name);
    const auto account_id = acc[0].as<std::int64_t>();
    const pqxx::row key = tx.exec_params1(
        "INSERT INTO api_keys (account_id, key_hash, prefix) "
        "VALUES ($1, decode($2, 'hex'), $3) RETURNING id",
        account_id, key_hash_hex, prefix);
    tx.commit();
    return CreatedKey{key[0].as<std::int64_t>(), account_id, acc[1].as<std::string>()};
}

std::vector<KeyRow> list_keys(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    const std::string fmt = kRfc3339;
    const pqxx::result r = tx.exec(
        "SELECT k.id, a.name, k.prefix, "
        "to_char(k.created_at AT TIME ZONE 'UTC', " +
        fmt +
        "), "
        "to_char(k.revoked_at AT TIME ZONE 'UTC', " +
        fmt +
        ") "
        "FROM api_keys k JOIN accounts a ON a.id = k.account_id ORDER BY k.id");
    tx.commit();
    std::vector<KeyRow> rows;
    for (const auto& row : r) {
        KeyRow k;
        k.id = row[0].as<std::int64_t>();
        k.account = row[1].as<std::string>();
        k.prefix = row[2].as<std::string>();
        k.created_at = row[3].as<std::string>();
        if (!row[4].is_null()) k.revoked_at = row[4].as<std::string>();
        rows.push_back(std::move(k));
    }
    return rows;
}

bool revoke_key(pqxx::connection& conn, std::int64_t key_id) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id);
    tx.commit();
    return r.affected_rows() == 1;
}

}  // namespace enconvert::db

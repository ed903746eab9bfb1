#include "db/migrations.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "util/backoff.h"

namespace enconvert::db {

namespace fs = std::filesystem;

namespace {

// pg_advisory_xact_lock key: "enconvert" spelled on a phone keypad.
constexpr long long kMigrationLock = 366266837868LL;

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw MigrationError("cannot read " + file.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

std::vector<std::string> known_migrations(const fs::path& dir) {
    std::vector<std::string> versions;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (e.path().extension() == ".sql" && !name.empty() && std::isdigit(name[0]))
            versions.push_back(e.path().stem().string());
    }
    if (ec) throw MigrationError("cannot read the schema directory " + dir.string());
    if (versions.empty()) throw MigrationError("no migrations found in " + dir.string());
    std::sort(versions.begin(), versions.end());
    return versions;
}

namespace {

// One migration in its own transaction; false when it was applied before.
// Its statements wait at most `locking.lock_timeout` for a table lock: an
// ALTER TABLE waiting for one (a pg_dump's long transaction holds the table)
// queues every later statement on that table behind it, the workers' too.
bool apply_one(pqxx::connection& conn, const fs::path& dir, const std::vector<std::string>& known,
               const std::string& version, const MigrationLocking& locking) {
    pqxx::work tx(conn);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    tx.exec("SET LOCAL lock_timeout = " + std::to_string(locking.lock_timeout.count()));
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    std::set<std::string> present;
    for (const auto& row : tx.exec("SELECT version FROM schema_migrations"))
        present.insert(row[0].as<std::string>());
    for (const std::string& v : present) {
        if (!std::binary_search(known.begin(), known.end(), v))
            throw MigrationError("the database has schema version " + v +
                                 ", which this enconvert does not know: it was migrated "
                                 "by a newer release; upgrade enconvert instead");
    }
    if (present.count(version)) return false;
    tx.exec(read_all(dir / (version + ".sql")));
    tx.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", version);
    tx.commit();
    return true;
}

}  // namespace

std::vector<std::string> apply_migrations(pqxx::connection& conn, const fs::path& dir,
                                          const MigrationLocking& locking) {
    const std::vector<std::string> known = known_migrations(dir);
    std::vector<std::string> applied;
    for (const std::string& version : known) {
        util::Backoff backoff;
        for (int attempt = 1;; ++attempt) {
            try {
                if (apply_one(conn, dir, known, version, locking)) applied.push_back(version);
                break;
            } catch (const pqxx::sql_error& e) {
                if (e.sqlstate() != "55P03") throw;  // lock_not_available
                if (attempt >= locking.attempts)
                    throw MigrationError(
                        "migration " + version + " could not lock its tables in " +
                        std::to_string(attempt) +
                        " tries: another session holds them (a long transaction, a pg_dump); "
                        "run the migration again once it has ended");
                backoff.failed(util::Backoff::clock::now());
                std::this_thread::sleep_until(backoff.next_attempt());
            }
        }
    }
    return applied;
}

const char* required_schema_version() {
    return ENCONVERT_SCHEMA_VERSION;
}

std::optional<std::string> schema_behind(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    const std::string required = required_schema_version();
    std::string at = "none (the database was never migrated)";
    if (tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>()) {
        const pqxx::row r = tx.exec_params1(
            "SELECT bool_or(version = $1), max(version) FROM schema_migrations", required);
        if (!r[0].is_null() && r[0].as<bool>()) return std::nullopt;
        if (!r[1].is_null()) at = r[1].as<std::string>();
    }
    return "the database schema is at " + at + ", this worker needs " + required +
           ": run `enconvert-worker migrate` with the same configuration first";
}

}  // namespace enconvert::db

// The schema's migrations (schema/migrations/NNN_name.sql): which exist,
// which a database has, and applying the missing ones. The one home of
// schema_migrations; `enconvert-worker migrate`, the local stack and the
// tests' database all go through here.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <vector>

namespace enconvert::db {

// A database this binary must not touch (it has migrations this binary does
// not know: a newer enconvert migrated it), or a missing/empty schema dir.
class MigrationError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The versions ("001_init", ...) of the *.sql files in `dir`, sorted.
std::vector<std::string> known_migrations(const std::filesystem::path& dir);

// How long a migration waits for a table lock, and how often it tries.
struct MigrationLocking {
    std::chrono::milliseconds lock_timeout{5000};
    int attempts = 6;  // 0.5 s, 1 s, 2 s, ... apart
};

// Applies, in order, each migration of `dir` the database has not recorded,
// each in its own transaction together with its schema_migrations row.
// Concurrent callers are serialised by an advisory lock, so two workers
// starting at once apply each migration once. Refuses (MigrationError,
// nothing applied) a database that records a version `dir` lacks. A
// migration that cannot lock a table within `locking` (another session
// holds it) is tried again, then refused with MigrationError: waiting on,
// it would queue every other statement on that table behind it. Returns
// the versions applied now (empty: already up to date).
std::vector<std::string> apply_migrations(pqxx::connection& conn, const std::filesystem::path& dir,
                                          const MigrationLocking& locking = {});

// The newest migration of the tree this binary was built from: its SQL
// relies on every migration up to it.
const char* required_schema_version();

// Why the database behind `conn` cannot be served by this binary: it has not
// recorded required_schema_version() (never migrated, or migrated by an
// older release: run `enconvert-worker migrate`). nullopt when it has; a
// database with later migrations too (a newer release migrated it, as in a
// rolling upgrade) is served, since migrations only add.
std::optional<std::string> schema_behind(pqxx::connection& conn);

}  // namespace enconvert::db

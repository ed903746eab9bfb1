// Named prepared statements: parsed once per connection instead of on every
// call. With the sessions' plan_cache_mode (db/session.cpp) they are also
// planned once, which is most of a small statement's server time.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <utility>

namespace enconvert::db {

// Runs `sql` as the statement `name` of the transaction's connection,
// registering it first (a no-op once registered with the same text).
template <typename... Args>
pqxx::result exec_named(pqxx::transaction_base& tx, const char* name, const std::string& sql,
                        Args&&... args) {
    tx.conn().prepare(name, sql);
    return tx.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace enconvert::db

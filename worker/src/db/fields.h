// Reading nullable columns with libpqxx.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace enconvert::db {

// The column's text, or nullopt for SQL NULL.
inline std::optional<std::string> opt_string(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<std::string>();
}

}  // namespace enconvert::db

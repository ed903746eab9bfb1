// Which database errors mean "the database is unavailable right now" (answer
// 503 and let the client retry) rather than a bug (answer 500).
#pragma once

#include <pqxx/pqxx>

namespace enconvert::db {

// True for SQLSTATE classes 08 (connection exception), 53 (insufficient
// resources, e.g. too many connections) and 57 (operator intervention:
// statement timeout 57014, admin/crash shutdown 57P01/57P02, starting up
// 57P03).
bool means_unavailable(const pqxx::sql_error& e);

}  // namespace enconvert::db

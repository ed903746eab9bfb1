#include "db/errors.h"

#include <string>

namespace enconvert::db {

bool means_unavailable(const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    if (state.size() != 5) return false;
    const std::string cls = state.substr(0, 2);
    return cls == "08" || cls == "53" || cls == "57";
}

}  // namespace enconvert::db

// `enconvert-worker migrate`: brings the configured database's schema up to
// this release (db/migrations.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace enconvert::admin {

// `args`: the words after "migrate" (--config FILE and/or --database_url,
// --schema_dir). Prints each migration applied, or that the schema is up to
// date. Exit code 0 on success, 1 when the database cannot be reached or is
// newer than this release, 2 for a usage or configuration error.
int run_migrate_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace enconvert::admin

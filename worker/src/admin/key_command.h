// `enconvert-worker key create|list|revoke`: operator commands for API keys.
#pragma once

#include <ostream>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace enconvert::admin {

// Runs one key subcommand. `args` are the words after "key" (e.g.
// {"create", "--account", "acme", "--config", "w.ini"}). Output goes to `out`
// (for create: the secret alone on the last line), problems to `err`.
// Returns the process exit code.
int run_key_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The pieces, on an open connection (used by tests).
std::string create_key(pqxx::connection& conn, const std::string& account, std::ostream& out);
void list_keys(pqxx::connection& conn, std::ostream& out);
bool revoke_key(pqxx::connection& conn, long long id, std::ostream& out);

}  // namespace enconvert::admin

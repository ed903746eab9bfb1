// The exit codes and one-line messages every admin command (key, migrate)
// gives for what goes wrong around its own work.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace enconvert::admin {

// Runs `body` and returns its exit code; turns an exception into one line
// on `err` and an exit code: configuration errors 2; an unreachable
// database 1; anything else 1, its message after `failure_prefix`.
int run_guarded(std::ostream& err, const std::function<int()>& body,
                const std::string& failure_prefix = "");

}  // namespace enconvert::admin

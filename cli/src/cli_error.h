// The one exception the client's parts throw: the line the user reads and
// the exit code the command ends with. main() prints it as
// "enconvert: <message>".
#pragma once

#include <stdexcept>
#include <string>

#include "exit_codes.h"

namespace enconvert::cli {

class CliError : public std::runtime_error {
  public:
    CliError(ExitCode code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    ExitCode code() const { return code_; }

  private:
    ExitCode code_;
};

}  // namespace enconvert::cli

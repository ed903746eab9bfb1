// `enconvert status JOB`: prints the job's state (status_report.h), or the
// API's status object with --json. Exit code 0 whatever state the job is in:
// the command's question (what is the state?) was answered.
#pragma once

#include <ostream>

#include "api_client.h"
#include "command_line.h"

namespace enconvert::cli {

int run_status(const StatusOptions& options, ApiClient& api, std::ostream& out);

}  // namespace enconvert::cli

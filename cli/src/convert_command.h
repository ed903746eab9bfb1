// `enconvert convert URL...`: submits the URLs as one request. Without
// --wait it prints the job id (stdout) and where to follow it (stderr).
// With --wait it polls the job's status, showing progress on stderr, then
// downloads every converted file into the output directory, prints each
// saved path on stdout and each failed URL with its error on stderr; the
// exit code is conversions_failed when any URL failed.
#pragma once

#include <ostream>

#include "api_client.h"
#include "command_line.h"
#include "http_client.h"

namespace enconvert::cli {

struct Console {
    std::ostream& out;  // results: job id, saved paths
    std::ostream& err;  // progress and messages
    bool err_is_terminal;
};

int run_convert(const ConvertOptions& options, ApiClient& api, HttpClient& http,
                const Console& console);

}  // namespace enconvert::cli

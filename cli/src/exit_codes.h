// Exit codes of the enconvert command, one per kind of outcome so scripts
// can tell them apart (docs/cli.md lists them; keep both in step).
#pragma once

namespace enconvert::cli {

enum class ExitCode : int {
    ok = 0,
    conversions_failed = 1,  // the job ended, but some or all of its URLs failed
    usage = 2,               // bad arguments or a bad ENCONVERT_URL
    authentication = 3,      // no key, or the key was refused (401, 403)
    request_refused = 4,     // the API refused the request (other 4xx: 400, 409, 413, 429 …)
    server_error = 5,        // the service failed or is unavailable (5xx, unusable answers)
    network = 6,             // the service could not be reached (connect, TLS, timeout)
    not_found = 7,           // no such job (or result file) for this key (404)
    local_file = 8,          // a result could not be written to the output directory
    internal = 9,            // an unexpected failure inside enconvert itself
};

inline int as_int(ExitCode code) {
    return static_cast<int>(code);
}

}  // namespace enconvert::cli

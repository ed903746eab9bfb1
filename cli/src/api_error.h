// Turns an API answer that is not what was asked for into the one line the
// user reads and the exit code (exit_codes.h), from the API's error shape
// {"success": false, "error": code, "detail": sentence, "field": path}
// (docs/api.md, Errors), or from the status alone when the body is not that.
#pragma once

#include <string>
#include <string_view>

#include "cli_error.h"
#include "http_answer.h"

namespace enconvert::cli {

// 401/403 authentication, 404 not_found, other 4xx request_refused,
// everything else (5xx, 3xx, nonsense) server_error.
ExitCode exit_code_for_status(long http_status);

// "<detail> (<code>, HTTP <status>)" on one line; `detail` is prefixed with
// the field when the API named one the sentence does not mention.
std::string describe_answer(const HttpAnswer& answer);

// CliError "<context>: <describe_answer>" with exit_code_for_status.
CliError api_error(std::string_view context, const HttpAnswer& answer);

// `text` fit for one line of a terminal: control characters (newlines
// included) become spaces, and it is cut to `max_length` bytes with "…".
std::string one_line(std::string_view text, std::size_t max_length = 400);

}  // namespace enconvert::cli

// enconvert: the command-line client of the enconvert HTTP API (docs/cli.md).
// Everything that goes wrong ends here as one line on stderr and an exit
// code (exit_codes.h).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "api_client.h"
#include "cli_error.h"
#include "command_line.h"
#include "convert_command.h"
#include "curl/curl_handles.h"
#include "http_client.h"
#include "service_settings.h"
#include "status_command.h"

using namespace enconvert::cli;

namespace {

int run(const std::vector<std::string>& args) {
    const Command command = parse_command_line(args);
    if (std::holds_alternative<HelpRequest>(command)) {
        std::cout << usage_text();
        return as_int(ExitCode::ok);
    }
    const ServiceSettings settings =
        settings_from_environment([](const char* name) { return std::getenv(name); });
    // Once, before any handle; curl_global_cleanup is left to the exit.
    enconvert::curl::ensure_curl_global_init();
    HttpClient http;
    ApiClient api(http, settings);
    if (const auto* status = std::get_if<StatusOptions>(&command)) {
        return run_status(*status, api, std::cout);
    }
    const Console console{std::cout, std::cerr, isatty(STDERR_FILENO) == 1};
    return run_convert(std::get<ConvertOptions>(command), api, http, console);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const CliError& error) {
        std::cout << std::flush;
        std::cerr << "enconvert: " << error.what() << '\n';
        return as_int(error.code());
    } catch (const std::exception& error) {
        std::cout << std::flush;
        std::cerr << "enconvert: unexpected failure: " << error.what() << '\n';
        return as_int(ExitCode::internal);
    }
}

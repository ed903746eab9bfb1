// The command line of `enconvert` (docs/cli.md), parsed with
// Boost.Program_options:
//   enconvert convert URL... [-o DIR] [--screenshot] [--wait]
//   enconvert status JOB [--json]
//   enconvert --help
#pragma once

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace enconvert::cli {

struct ConvertOptions {
    std::vector<std::string> urls;
    std::filesystem::path output_dir = ".";
    bool screenshot = false;
    // Wait for the job to end and download its files; -o implies it (asking
    // for a directory only makes sense if files are saved there).
    bool wait = false;
};

struct StatusOptions {
    std::string job_id;
    bool json = false;
};

struct HelpRequest {};

using Command = std::variant<HelpRequest, ConvertOptions, StatusOptions>;

// `args` without the program name. Throws CliError(usage) with one line
// saying what is wrong.
Command parse_command_line(const std::vector<std::string>& args);

// What --help prints.
std::string usage_text();

}  // namespace enconvert::cli

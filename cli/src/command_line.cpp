#include "command_line.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "cli_error.h"

namespace po = boost::program_options;

namespace enconvert::cli {

namespace {

constexpr const char* kSeeHelp = " (see enconvert --help)";

po::options_description convert_options() {
    po::options_description options("convert options");
    options.add_options()  //
        ("wait",
         "wait for the job to end, showing progress on stderr, then download its files "
         "and print their paths")  //
        ("output-dir,o", po::value<std::string>()->value_name("DIR"),
         "save the files in DIR (created if missing; default: the current directory); "
         "implies --wait")                                 //
        ("screenshot", "PNG screenshots instead of PDFs")  //
        ("help,h", "show this help");
    return options;
}

po::options_description status_options() {
    po::options_description options("status options");
    options.add_options()                                     //
        ("json", "print the API's status object as it came")  //
        ("help,h", "show this help");
    return options;
}

// Parses `args` against `options`; the arguments no option names (the URLs,
// or the job id) are collected under `positional_name`.
po::variables_map parse(const std::string& command, const std::vector<std::string>& args,
                        po::options_description options, const char* positional_name,
                        int positional_count) {
    options.add_options()(positional_name, po::value<std::vector<std::string>>());
    po::positional_options_description positional;
    positional.add(positional_name, positional_count);
    po::variables_map values;
    try {
        // No guessing of abbreviated options: "--s" must not become --screenshot.
        const int style =
            po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        po::store(po::command_line_parser(args)
                      .options(options)
                      .positional(positional)
                      .style(style)
                      .run(),
                  values);
        po::notify(values);
    } catch (const po::error& e) {
        throw CliError(ExitCode::usage, command + ": " + e.what() + kSeeHelp);
    }
    return values;
}

std::vector<std::string> positional_values(const po::variables_map& values, const char* name) {
    return values.count(name) ? values[name].as<std::vector<std::string>>()
                              : std::vector<std::string>();
}

Command parse_convert(const std::vector<std::string>& args) {
    const auto values = parse("convert", args, convert_options(), "url", -1);
    if (values.count("help")) return HelpRequest{};
    ConvertOptions options;
    options.urls = positional_values(values, "url");
    if (options.urls.empty()) {
        throw CliError(ExitCode::usage, std::string("convert: give at least one URL") + kSeeHelp);
    }
    for (const auto& url : options.urls) {
        if (url.empty()) throw CliError(ExitCode::usage, "convert: a URL is empty");
    }
    options.screenshot = values.count("screenshot") > 0;
    options.wait = values.count("wait") > 0;
    if (values.count("output-dir")) {
        options.output_dir = values["output-dir"].as<std::string>();
        if (options.output_dir.empty()) {
            throw CliError(ExitCode::usage, "convert: the output directory is empty");
        }
        options.wait = true;
    }
    return options;
}

Command parse_status(const std::vector<std::string>& args) {
    const auto values = parse("status", args, status_options(), "job", 1);
    if (values.count("help")) return HelpRequest{};
    const auto jobs = positional_values(values, "job");
    if (jobs.empty() || jobs.front().empty()) {
        throw CliError(ExitCode::usage, std::string("status: give the job id") + kSeeHelp);
    }
    StatusOptions options;
    options.job_id = jobs.front();
    options.json = values.count("json") > 0;
    return options;
}

}  // namespace

Command parse_command_line(const std::vector<std::string>& args) {
    if (args.empty()) {
        throw CliError(ExitCode::usage,
                       std::string("give a command: convert or status") + kSeeHelp);
    }
    const std::string& command = args.front();
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "-h" || command == "--help" || command == "help") return HelpRequest{};
    if (command == "convert") return parse_convert(rest);
    if (command == "status") return parse_status(rest);
    throw CliError(ExitCode::usage,
                   "unknown command \"" + command + "\": use convert or status" + kSeeHelp);
}

std::string usage_text() {
    std::ostringstream text;
    text << "usage: enconvert convert URL... [-o DIR] [--screenshot] [--wait]\n"
            "       enconvert status JOB [--json]\n"
            "\n"
            "Turns web pages into PDFs or PNG screenshots with an enconvert service.\n"
            "\n"
            "  convert  submit the URLs (one URL is one job, several are one batch) and\n"
            "           print the job id; --wait follows the job and downloads its files\n"
            "  status   print a job's state and, per URL, its download link or its error\n"
            "\n"
         << convert_options() << "\n"
         << status_options() << "\n"
         << "Environment:\n"
            "  ENCONVERT_URL      the service's base URL (default http://127.0.0.1:8080)\n"
            "  ENCONVERT_API_KEY  the API key (sk_live_...), required\n"
            "\n"
            "Exit codes: 0 done; 1 some URLs failed; 2 usage error; 3 key missing or refused;\n"
            "4 request refused; 5 server error; 6 server unreachable; 7 job not found;\n"
            "8 a file could not be written; 9 internal error.\n";
    return text.str();
}

}  // namespace enconvert::cli

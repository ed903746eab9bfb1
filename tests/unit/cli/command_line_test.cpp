#include "command_line.h"

#include <gtest/gtest.h>

#include "cli_error.h"

using namespace enconvert::cli;

namespace {

ExitCode failure_of(const std::vector<std::string>& args) {
    try {
        parse_command_line(args);
    } catch (const CliError& e) {
        return e.code();
    }
    return ExitCode::ok;
}

std::string message_of(const std::vector<std::string>& args) {
    try {
        parse_command_line(args);
    } catch (const CliError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(CommandLine, ConvertTakesUrlsInOrderWithOptionsAnywhere) {
    const auto command = parse_command_line(
        {"convert", "https://a.example/", "--screenshot", "https://b.example/", "--wait"});
    const auto options = std::get<ConvertOptions>(command);
    EXPECT_EQ(options.urls, (std::vector<std::string>{"https://a.example/", "https://b.example/"}));
    EXPECT_TRUE(options.screenshot);
    EXPECT_TRUE(options.wait);
    EXPECT_EQ(options.output_dir, ".");
}

TEST(CommandLine, ConvertDefaultsToPdfWithoutWaiting) {
    const auto options = std::get<ConvertOptions>(parse_command_line({"convert", "https://a/"}));
    EXPECT_FALSE(options.screenshot);
    EXPECT_FALSE(options.wait);
}

TEST(CommandLine, OutputDirImpliesWait) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"convert", "-o", "out", "https://a/"},
                                               {"convert", "https://a/", "--output-dir", "out"},
                                               {"convert", "https://a/", "--output-dir=out"}}) {
        const auto options = std::get<ConvertOptions>(parse_command_line(args));
        EXPECT_EQ(options.output_dir, "out");
        EXPECT_TRUE(options.wait);
    }
}

TEST(CommandLine, DoubleDashEndsOptions) {
    const auto options =
        std::get<ConvertOptions>(parse_command_line({"convert", "--wait", "--", "-odd-url"}));
    EXPECT_EQ(options.urls, std::vector<std::string>{"-odd-url"});
}

TEST(CommandLine, StatusTakesOneJob) {
    const auto options =
        std::get<StatusOptions>(parse_command_line({"status", "batch_0123", "--json"}));
    EXPECT_EQ(options.job_id, "batch_0123");
    EXPECT_TRUE(options.json);
    EXPECT_FALSE(std::get<StatusOptions>(parse_command_line({"status", "job_1"})).json);
}

TEST(CommandLine, HelpEverywhere) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--help"}, {"-h"}, {"help"}, {"convert", "--help"}, {"status", "-h"}}) {
        EXPECT_TRUE(std::holds_alternative<HelpRequest>(parse_command_line(args)));
    }
}

TEST(CommandLine, MistakesAreUsageErrors) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {},
             {"conver", "https://a/"},
             {"convert"},
             {"convert", "--wait"},
             {"convert", "https://a/", "--screen"},  // no guessing of abbreviations
             {"convert", "https://a/", "--bogus"},
             {"convert", "https://a/", "-o"},
             {"convert", "https://a/", "-o", ""},
             {"convert", ""},
             {"status"},
             {"status", ""},
             {"status", "job_1", "job_2"},
             {"status", "job_1", "--wait"}}) {
        EXPECT_EQ(failure_of(args), ExitCode::usage) << ::testing::PrintToString(args);
    }
}

TEST(CommandLine, UsageErrorsNameTheProblemAndPointAtHelp) {
    const std::string message = message_of({"convert", "https://a/", "--bogus"});
    EXPECT_NE(message.find("--bogus"), std::string::npos) << message;
    EXPECT_NE(message.find("enconvert --help"), std::string::npos) << message;
    EXPECT_NE(message_of({"frobnicate"}).find("\"frobnicate\""), std::string::npos);
}

TEST(CommandLine, UsageTextListsCommandsOptionsVariablesAndExitCodes) {
    const std::string text = usage_text();
    for (const char* word : {"enconvert convert URL...", "enconvert status JOB", "--wait",
                             "--output-dir", "--screenshot", "--json", "ENCONVERT_URL",
                             "ENCONVERT_API_KEY", "Exit codes", "7 job not found"}) {
        EXPECT_NE(text.find(word), std::string::npos) << word;
    }
}

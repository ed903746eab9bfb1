#include "log/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using namespace enconvert;

namespace {

nlohmann::json parse_line(const std::string& line) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per event";
    return nlohmann::json::parse(line);
}

// Runs `body` with stderr sent to a file and returns what it wrote.
template <typename F>
std::string capture_stderr(F body) {
    char path[] = "/tmp/enconvert-log-test-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    const int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    body();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    unlink(path);
    return ss.str();
}

TEST(Log, LineIsOneJsonObjectWithTheFixedKeysAndTheFields) {
    const auto j =
        parse_line(log::format_line(log::Level::warning, "worker", "scheduler", "task failed",
                                    {{"job_id", "job_ab12"}, {"task_id", 42}}));
    EXPECT_EQ(j["level"], "warning");
    EXPECT_EQ(j["process"], "worker");
    EXPECT_EQ(j["component"], "scheduler");
    EXPECT_EQ(j["msg"], "task failed");
    EXPECT_EQ(j["job_id"], "job_ab12");
    EXPECT_EQ(j["task_id"], 42);
    const std::string ts = j["ts"];
    EXPECT_EQ(ts.size(), 24u) << ts;  // 2026-12-02T11:28:35.123Z
    EXPECT_EQ(ts.back(), 'Z');
}

TEST(Log, NullFieldsAreLeftOutAndFixedKeysCannotBeOverridden) {
    const auto j = parse_line(log::format_line(log::Level::info, "render", "view", "done",
                                               {{"job_id", nullptr}, {"level", "error"}}));
    EXPECT_FALSE(j.contains("job_id"));
    EXPECT_EQ(j["level"], "info");
}

TEST(Log, NewlinesAndInvalidUtf8InMessagesCannotBreakTheLine) {
    const std::string bad = std::string("line one\nline two ") + "\xff\xfe";
    const auto j =
        parse_line(log::format_line(log::Level::error, "worker", "x", bad, {{"detail", bad}}));
    EXPECT_NE(j["msg"].get<std::string>().find("line two"), std::string::npos);
}

TEST(Log, LevelsBelowTheMinimumAreNotWritten) {
    log::set_min_level(log::Level::warning);
    const std::string out = capture_stderr([] {
        log::Logger test{"test"};
        test.info("hidden");
        test.debug("hidden too");
        test.warning("shown", {{"job_id", "j1"}});
    });
    log::set_min_level(log::Level::info);
    EXPECT_EQ(out.find("hidden"), std::string::npos);
    const auto j = parse_line(out);
    EXPECT_EQ(j["msg"], "shown");
    EXPECT_EQ(j["job_id"], "j1");
}

TEST(Log, LevelNamesParse) {
    EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
    EXPECT_EQ(log::parse_level("warn"), log::Level::warning);
    EXPECT_EQ(log::parse_level("error"), log::Level::error);
    EXPECT_FALSE(log::parse_level("verbose"));
    EXPECT_FALSE(log::parse_level(""));
}

TEST(Log, RedactedUrlsKeepNoCredentialsQueryOrFragment) {
    EXPECT_EQ(log::redact_url("https://user:s3cret@example.com:8443/a/b?token=abc#frag"),
              "https://example.com:8443/a/b");
    EXPECT_EQ(log::redact_url("http://example.com/"), "http://example.com/");
    EXPECT_EQ(log::redact_url("not a url"), "-");
    EXPECT_EQ(log::redact_url(""), "-");
}

}  // namespace

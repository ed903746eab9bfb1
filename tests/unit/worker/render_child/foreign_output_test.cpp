#include "render_child/foreign_output.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "log/log.h"

namespace enconvert::render_child {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs `body` in a process of its own (it rewires stderr for good) whose
// stderr is the file `log`, as a renderer's once it captured other
// processes' output; its exit status (body's return value), or -1.
int run_as_renderer(const fs::path& log, const std::function<int()>& body) {
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(2);
        close(fd);
        log::set_process("render");
        if (!capture_foreign_output()) _exit(3);
        _exit(body());
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

// In a process of its own (it rewires stderr for good): stderr is a file;
// after the capture a process it spawns writes plain text and GLib-style
// lines to what it inherited as stderr, and the child logs one line of its
// own. The file then holds only JSON lines, those among them.
TEST(ForeignOutputTest, OtherProcessesLinesBecomeJsonLogLines) {
    const fs::path log = fs::temp_directory_path() /
                         ("enconvert-foreign-output-" + std::to_string(getpid()) + ".log");
    ASSERT_EQ(
        run_as_renderer(
            log,
            [&] {
                log::write(log::Level::info, "test", "own line");
                if (std::system("printf 'plain text\\n** (WebKitWebProcess:2): CRITICAL **: bad\\n"
                                "(WebKitWebProcess:2): Gtk-CRITICAL **: worse\\n"
                                "** (WebKitWebProcess:2): WARNING **: saw ERROR_CODE 7\\n"
                                "no newline at the end' >&2") != 0)
                    return 4;
                // The relay thread writes asynchronously: wait for its lines.
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (read_all(log).find("no newline") == std::string::npos &&
                       std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                return 0;
            }),
        0);
    std::vector<nlohmann::json> lines;
    std::istringstream text(read_all(log));
    fs::remove(log);
    for (std::string line; std::getline(text, line);) {
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << line;
        lines.push_back(parsed);
    }
    auto find = [&](const std::string& msg) -> const nlohmann::json* {
        for (const auto& l : lines)
            if (l.value("msg", "") == msg) return &l;
        return nullptr;
    };
    ASSERT_TRUE(find("own line"));
    EXPECT_EQ((*find("own line"))["component"], "test");
    const nlohmann::json* plain = find("plain text");
    ASSERT_TRUE(plain);
    EXPECT_EQ((*plain)["component"], "engine");
    EXPECT_EQ((*plain)["level"], "warning");
    const nlohmann::json* critical = find("** (WebKitWebProcess:2): CRITICAL **: bad");
    ASSERT_TRUE(critical);
    EXPECT_EQ((*critical)["level"], "error");
    const nlohmann::json* gtk = find("(WebKitWebProcess:2): Gtk-CRITICAL **: worse");
    ASSERT_TRUE(gtk);
    EXPECT_EQ((*gtk)["level"], "error");
    // A warning that quotes an error's name stays a warning.
    const nlohmann::json* quoting = find("** (WebKitWebProcess:2): WARNING **: saw ERROR_CODE 7");
    ASSERT_TRUE(quoting);
    EXPECT_EQ((*quoting)["level"], "warning");
    EXPECT_TRUE(find("no newline at the end"));
}

struct FloodCount {
    std::size_t logged = 0, dropped = 0, reports = 0;
    bool parsed = true;
};

// What a log holds of a flood: lines logged, lines said to be dropped.
FloodCount count_flood(const std::string& text) {
    FloodCount count;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (parsed.is_discarded()) {
            count.parsed = false;
        } else if (parsed.contains("dropped_lines")) {
            ++count.reports;
            count.dropped += parsed["dropped_lines"].get<std::size_t>();
        } else if (parsed.value("component", "") == "engine") {
            ++count.logged;
        }
    }
    return count;
}

// A process that floods its stderr (a page that broke out of the engine)
// does not flood the log: past the burst its lines are dropped, and a
// warning says how many.
TEST(ForeignOutputTest, AFloodIsCutAndCounted) {
    const fs::path log = fs::temp_directory_path() /
                         ("enconvert-foreign-flood-" + std::to_string(getpid()) + ".log");
    constexpr std::size_t kLines = 20000;  // 2 MB of 100-byte lines, at once
    ASSERT_EQ(run_as_renderer(log,
                              [&] {
                                  const std::string command =
                                      "i=0; while [ $i -lt " + std::to_string(kLines) +
                                      " ]; do printf '%099d\\n' $i; i=$((i+1)); done >&2";
                                  if (std::system(command.c_str()) != 0) return 4;
                                  // The last writer gone: the relay reads to the end and says what
                                  // it dropped.
                                  const int null = open("/dev/null", O_WRONLY);
                                  if (null < 0 || dup2(null, STDERR_FILENO) < 0) return 5;
                                  const auto deadline =
                                      std::chrono::steady_clock::now() + std::chrono::seconds(10);
                                  while (std::chrono::steady_clock::now() < deadline) {
                                      const FloodCount count = count_flood(read_all(log));
                                      if (count.logged + count.dropped >= kLines) break;
                                      std::this_thread::sleep_for(std::chrono::milliseconds(10));
                                  }
                                  return 0;
                              }),
              0);
    const FloodCount count = count_flood(read_all(log));
    fs::remove(log);
    EXPECT_TRUE(count.parsed);
    // 256 KiB of burst is ~2,600 of these lines, plus what refills while
    // the shell writes.
    EXPECT_LT(count.logged, 5000u);
    EXPECT_GE(count.reports, 1u);
    EXPECT_EQ(count.logged + count.dropped, kLines);
}

}  // namespace
}  // namespace enconvert::render_child

#include "render_child/foreign_output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "log/log.h"
#include "render_child/log_budget.h"

namespace enconvert::render_child {
namespace {

constexpr std::string_view kComponent = "engine";
// A line longer than this is logged in pieces.
constexpr std::size_t kMaxLine = 8192;
constexpr int kPartialLineWaitMs = 100;
// What other processes may fill the log with (log_budget.h): WebKit's
// usual warnings are a few hundred bytes a page; a flood is cut to about
// 340 MB a day per renderer.
constexpr std::size_t kBurstBytes = 256 * 1024;
constexpr std::size_t kBytesPerSecond = 4 * 1024;
constexpr std::chrono::seconds kDroppedReportEvery{10};

// GLib's "** (prog:pid): CRITICAL **: …" and "(prog:pid): Gtk-CRITICAL
// **: …" say how bad they are, in the level's word just before " **";
// anything else (a message that merely quotes an error's name too) is a
// warning.
log::Level level_of(std::string_view line) {
    const std::size_t end = line.find(" **");
    if (end == std::string_view::npos) return log::Level::warning;
    const std::string_view head = line.substr(0, end);
    for (std::string_view level : {"CRITICAL", "ERROR"}) {
        if (head.size() >= level.size() && head.substr(head.size() - level.size()) == level)
            return log::Level::error;
    }
    return log::Level::warning;
}

// Other processes' lines within the budget, and a word on what it dropped
// at most every kDroppedReportEvery (and at the end).
class BudgetedOutput {
  public:
    BudgetedOutput() : budget_(kBurstBytes, kBytesPerSecond, LogBudget::Clock::now()) {}

    // One line (or piece of one) of another process, as a log line.
    void emit(std::string_view text) {
        const LogBudget::Clock::time_point now = LogBudget::Clock::now();
        if (!budget_.admit(text.size(), now)) return;
        report_dropped_if_due(now);
        log::write(level_of(text), kComponent, text);
    }

    // Whether dropped lines wait to be reported.
    bool dropping() const { return budget_.dropped_any(); }

    void report_dropped_if_due(LogBudget::Clock::time_point now) {
        if (dropping() && now - reported_at_ >= kDroppedReportEvery) report_dropped(now);
    }

    void report_dropped(LogBudget::Clock::time_point now) {
        reported_at_ = now;
        const LogBudget::Dropped dropped = budget_.take_dropped();
        if (dropped.lines == 0) return;
        log::write(log::Level::warning, kComponent,
                   "other processes' output was not logged: more than the renderer logs for them",
                   {{"dropped_lines", dropped.lines},
                    {"dropped_bytes", dropped.bytes},
                    {"bytes_per_second", kBytesPerSecond}});
    }

  private:
    LogBudget budget_;
    LogBudget::Clock::time_point reported_at_{};
};

void relay(int fd) {
    BudgetedOutput output;
    std::string pending;
    char buffer[4096];
    for (;;) {
        // A line without its end yet is logged once nothing more has come
        // for a moment (a process that died mid-line), not joined to
        // another process's next line.
        pollfd readable{fd, POLLIN, 0};
        // Dropped lines are reported even when nothing more comes.
        const int wait_ms = !pending.empty() ? kPartialLineWaitMs : output.dropping() ? 1000 : -1;
        const int ready = ::poll(&readable, 1, wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) {
            if (!pending.empty()) output.emit(pending);
            pending.clear();
            output.report_dropped_if_due(LogBudget::Clock::now());
            continue;
        }
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buffer, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
             start = nl + 1) {
            const std::string_view line(pending.data() + start, nl - start);
            if (!line.empty()) output.emit(line);
        }
        pending.erase(0, start);
        if (pending.size() > kMaxLine) {
            output.emit(pending);
            pending.clear();
        }
    }
    if (!pending.empty()) output.emit(pending);
    output.report_dropped(LogBudget::Clock::now());
    ::close(fd);
}

}  // namespace

bool capture_foreign_output() {
    const int own = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (own < 0) return false;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        ::close(own);
        return false;
    }
    // fd 2 becomes the pipe (dup2 clears close-on-exec: spawned processes
    // inherit it); the child's own lines go to the copy.
    if (dup2(fds[1], STDERR_FILENO) < 0) {
        ::close(own);
        ::close(fds[0]);
        ::close(fds[1]);
        return false;
    }
    ::close(fds[1]);
    log::set_output_fd(own);
    // Lives as long as the process: the pipe stays open while any process
    // that inherited it runs.
    std::thread(relay, fds[0]).detach();
    return true;
}

}  // namespace enconvert::render_child

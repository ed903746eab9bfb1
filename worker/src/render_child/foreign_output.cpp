#include "render_child/foreign_output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <thread>

#include "log/log.h"

namespace enconvert::render_child {
namespace {

constexpr std::string_view kComponent = "engine";
// A line longer than this is logged in pieces.
constexpr std::size_t kMaxLine = 8192;
constexpr int kPartialLineWaitMs = 100;

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

// One line (or piece of one) of another process, as a log line.
void emit(std::string_view text) {
    log::write(level_of(text), kComponent, text);
}

void relay(int fd) {
    std::string pending;
    char buffer[4096];
    for (;;) {
        // A line without its end yet is logged once nothing more has come
        // for a moment (a process that died mid-line), not joined to
        // another process's next line.
        pollfd readable{fd, POLLIN, 0};
        const int ready = ::poll(&readable, 1, pending.empty() ? -1 : kPartialLineWaitMs);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) {
            emit(pending);
            pending.clear();
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
            if (!line.empty()) emit(line);
        }
        pending.erase(0, start);
        if (pending.size() > kMaxLine) {
            emit(pending);
            pending.clear();
        }
    }
    if (!pending.empty()) emit(pending);
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

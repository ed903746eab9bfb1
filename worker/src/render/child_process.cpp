#include "render/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "render/child_setup.h"

namespace enconvert::render {
namespace bp = boost::process;

namespace {

// Parent ends must not leak into other children (a sibling holding our
// stdin write end would keep the child from ever seeing EOF), so pipes are
// close-on-exec; the child's dup2 onto 0/1 clears the flag for its ends.
bp::pipe cloexec_pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe() failed");
    return bp::pipe(fds[0], fds[1]);
}

void set_nonblocking(int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// write() on a pipe whose reader died raises SIGPIPE, which would kill the
// whole worker. Block it for this thread only and swallow a pending one, so
// the process-wide disposition stays whatever the embedding program chose.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    ssize_t n = ::write(fd, data, size);
    const int saved_errno = errno;
    if (n < 0 && errno == EPIPE && !sigismember(&old_set, SIGPIPE)) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
    errno = saved_errno;
    return n;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, std::string>>& env) {
    bp::pipe to_child = cloexec_pipe();
    bp::pipe from_child = cloexec_pipe();
    // Exactly `env`: nothing of the worker's own environment is inherited.
    bp::environment environment;
    // set(), not operator[]: Boost 1.74's environment::find compares each
    // entry over the name's length and reads past shorter ones (make
    // sanitize, docs/fuzzing.md).
    for (const auto& [name, value] : env) environment.set(name, value);
    try {
        // stderr is inherited: the child's log joins the worker's.
        process_ = bp::child(
            binary, bp::args(args), environment, bp::std_in<to_child, bp::std_out> from_child,
            bp::extend::on_exec_setup = [parent = getpid()](auto&) {
                prepare_child_for_exec(parent);
            });
    } catch (const std::exception& e) {
        throw std::runtime_error("cannot start " + binary + ": " + e.what());
    }
    // Boost closed the child's ends; keep ours, out of the pipes' hands.
    stdin_fd_ = to_child.native_sink();
    to_child.assign_sink(-1);
    stdout_fd_ = from_child.native_source();
    from_child.assign_source(-1);
    set_nonblocking(stdin_fd_);
    set_nonblocking(stdout_fd_);
}

ChildProcess::~ChildProcess() {
    close_stdin();
    if (stdout_fd_ >= 0) close(stdout_fd_);
    const pid_t pid = process_.valid() ? process_.id() : -1;
    std::error_code ec;
    if (pid > 0 && process_.running(ec)) {
        ::kill(pid, SIGKILL);
        // Reaped here: boost's terminate() can leave a zombie behind, which
        // would linger for as long as the worker runs.
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

pid_t ChildProcess::pid() const {
    return process_.id();
}

bool ChildProcess::read_available(FrameDecoder& decoder) {
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
        if (n > 0) {
            decoder.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        return false;  // EOF or error
    }
}

bool ChildProcess::send(const std::string& bytes) {
    out_buffer_ += bytes;
    return flush();
}

bool ChildProcess::flush() {
    while (!out_buffer_.empty()) {
        if (stdin_fd_ < 0) return false;
        ssize_t n = write_without_sigpipe(stdin_fd_, out_buffer_.data(), out_buffer_.size());
        if (n > 0) {
            out_buffer_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        return false;
    }
    return true;
}

void ChildProcess::close_stdin() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
}

bool ChildProcess::stopped_by_signal() {
    if (!process_.valid()) return false;
    std::error_code ec;
    // A closed output means the process is exiting: its status follows.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (process_.running(ec) && !ec && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (ec || process_.running(ec)) return false;
    const int status = process_.native_exit_code();
    if (!WIFSIGNALED(status)) return false;
    const int sig = WTERMSIG(status);
    return sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

bool ChildProcess::exited() {
    std::error_code ec;
    return !process_.valid() || !process_.running(ec);
}

}  // namespace enconvert::render

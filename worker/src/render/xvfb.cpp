#include "render/xvfb.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "render/child_setup.h"
#include "render/x_authority.h"

namespace enconvert::render {
namespace bp = boost::process;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(2);

// A pipe whose ends close on scope exit.
struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("Xvfb: pipe() failed");
        read = fds[0];
        write = fds[1];
    }
    ~Pipe() {
        if (read >= 0) close(read);
        if (write >= 0) close(write);
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
};

// Reads Xvfb's display number line, giving up at the deadline or at EOF
// (Xvfb exited, e.g. not installed correctly).
std::string read_display_number(int fd, std::chrono::steady_clock::time_point deadline) {
    std::string line;
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("Xvfb did not report a display in time");
        pollfd p{fd, POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char buffer[64];
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("Xvfb exited before reporting a display");
        line.append(buffer, static_cast<std::size_t>(n));
    }
    line.resize(line.find('\n'));
    if (line.empty() || line.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error("Xvfb reported an unexpected display: " + line);
    return ":" + line;
}

// PATH lookup without bp::search_path, which would drag in the compiled
// Boost.Filesystem library.
std::string find_in_path(const std::string& name) {
    const char* path = getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string candidate = dirs.substr(start, end - start) + "/" + name;
        if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return {};
}

}  // namespace

struct Xvfb::Impl {
    XAuthorityFile authority;
    bp::child process;
    std::string display;
};

Xvfb::Xvfb(const std::vector<std::string>& extra_arguments) : impl_(std::make_unique<Impl>()) {
    const std::string exe = find_in_path("Xvfb");
    if (exe.empty()) throw std::runtime_error("Xvfb is not installed (not found in PATH)");
    Pipe pipe;
    const int write_fd = pipe.write;
    try {
        // Only Xvfb may inherit the write end: it is close-on-exec and made
        // inheritable in the forked child just before exec.
        std::vector<std::string> arguments{
            "-displayfd",  std::to_string(write_fd), "-nolisten", "tcp",
            "-auth",       impl_->authority.path(),  "-screen",   "0",
            "1920x1080x24"};
        arguments.insert(arguments.end(), extra_arguments.begin(), extra_arguments.end());
        impl_->process = bp::child(
            exe, bp::args(arguments), bp::std_in<bp::null, bp::std_out> bp::null,
            bp::std_err > bp::null,
            bp::extend::on_exec_setup = [write_fd, parent = getpid()](auto&) {
                prepare_child_for_exec(parent);
                fcntl(write_fd, F_SETFD, 0);
            });
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("cannot start Xvfb: ") + e.what());
    }
    close(pipe.write);
    pipe.write = -1;
    try {
        impl_->display =
            read_display_number(pipe.read, std::chrono::steady_clock::now() + kStartTimeout);
    } catch (...) {
        std::error_code ec;
        impl_->process.terminate(ec);
        throw;
    }
}

Xvfb::~Xvfb() {
    if (!impl_) return;
    bp::child& p = impl_->process;
    std::error_code ec;
    if (!p.valid() || !p.running(ec)) return;
    // SIGTERM lets Xvfb remove its lock file and socket.
    ::kill(p.id(), SIGTERM);
    // Polling rather than child::wait_for, whose POSIX implementation in
    // Boost 1.74 plays with SIGCHLD behind the caller's back.
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    while (p.running(ec) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (p.running(ec)) p.terminate(ec);
}

const std::string& Xvfb::display() const {
    return impl_->display;
}

const std::string& Xvfb::authority() const {
    return impl_->authority.path();
}

const std::string& Xvfb::authority_directory() const {
    return impl_->authority.directory();
}

}  // namespace enconvert::render

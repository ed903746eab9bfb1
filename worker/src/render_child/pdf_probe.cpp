#include "render_child/pdf_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "render_child/pdf/postprocess.h"
#include "util/owned_fd.h"

extern char** environ;

namespace enconvert::render_child {

namespace {

// Under AddressSanitizer (make sanitize) RLIMIT_DATA cannot bound the probe:
// ASan's shadow is terabytes of private writable mappings, which the limit
// counts, so every mmap after setrlimit failed and no PDF could be read.
// There the probe is bounded by ASan's own limit on its allocator's
// mappings (mmap_limit_mb); past it the probe dies, which the caller counts
// as unreadable, as it does bad_alloc in the release build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kDataLimitWorks = false;
#else
constexpr bool kDataLimitWorks = true;
#endif

// The environment the probe starts with: the caller's, and in an ASan build
// ASAN_OPTIONS with the probe's memory bound added.
class ProbeEnvironment {
  public:
    ProbeEnvironment() {
        if (kDataLimitWorks) return;
        constexpr std::string_view kOptions = "ASAN_OPTIONS=";
        const std::string bound = "mmap_limit_mb=" + std::to_string(kProbeDataLimitBytes >> 20);
        bool found = false;
        for (char** entry = environ; *entry; ++entry) {
            std::string line = *entry;
            if (line.starts_with(kOptions)) {
                line += ":" + bound;
                found = true;
            }
            lines_.push_back(std::move(line));
        }
        if (!found) lines_.push_back(std::string(kOptions) + bound);
        for (std::string& line : lines_) pointers_.push_back(line.data());
        pointers_.push_back(nullptr);
    }
    ProbeEnvironment(const ProbeEnvironment&) = delete;
    ProbeEnvironment& operator=(const ProbeEnvironment&) = delete;
    char** get() { return kDataLimitWorks ? environ : pointers_.data(); }

  private:
    std::vector<std::string> lines_;
    std::vector<char*> pointers_;
};

// posix_spawn's file actions, destroyed once.
class FileActions {
  public:
    FileActions() { posix_spawn_file_actions_init(&actions_); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
    posix_spawn_file_actions_t* get() { return &actions_; }

  private:
    posix_spawn_file_actions_t actions_;
};

bool set_limit(int resource, rlim_t value) {
    const rlimit limit{value, value};
    return ::setrlimit(resource, &limit) == 0;
}

// Reads the probe's answer until it closes its end or `deadline` passes.
bool read_answer(int fd, std::chrono::steady_clock::time_point deadline, std::string& out) {
    char buffer[64];
    while (out.size() < 64) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;  // the probe is done
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

int run_page_count_probe(const std::string& path) {
    // Without its limits the probe is no safer than reading in the child.
    if ((kDataLimitWorks && !set_limit(RLIMIT_DATA, kProbeDataLimitBytes)) ||
        !set_limit(RLIMIT_CPU, kProbeCpuSeconds))
        return 2;
    // qpdf's allocations over the limit throw std::bad_alloc: page_count
    // then answers 0, like for any file it cannot read.
    std::printf("%d\n", pdf::page_count(path));
    return std::fflush(stdout) == 0 ? 0 : 2;
}

int count_pdf_pages_in_probe(const std::string& binary, const std::string& path) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return 0;
    util::OwnedFd read_end(ends[0]);
    util::OwnedFd write_end(ends[1]);
    FileActions actions;
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), 1);
    // Nothing else of the renderer's (its request channel, WebKit's
    // sockets) reaches the probe; stderr stays the log.
    posix_spawn_file_actions_addclosefrom_np(actions.get(), 3);
    const std::string argument = kPageCountArgument;
    char* argv[] = {const_cast<char*>("enconvert-render"), const_cast<char*>(argument.c_str()),
                    const_cast<char*>(path.c_str()), nullptr};
    ProbeEnvironment environment;
    pid_t pid = 0;
    if (posix_spawn(&pid, binary.c_str(), actions.get(), nullptr, argv, environment.get()) != 0)
        return 0;
    write_end.reset();
    std::string answer;
    const bool answered = read_answer(
        read_end.get(), std::chrono::steady_clock::now() + std::chrono::milliseconds(kProbeWaitMs),
        answer);
    if (!answered) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!answered || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
    char* end = nullptr;
    const long pages = std::strtol(answer.c_str(), &end, 10);
    if (end == answer.c_str() || pages < 0 || pages > 1 << 30) return 0;
    return static_cast<int>(pages);
}

}  // namespace enconvert::render_child

// One renderer child process and its two pipes, as plain I/O: spawning,
// non-blocking reads into a frame decoder, buffered non-blocking writes,
// killing. What the frames mean is RendererPool's business.
#pragma once

#include <sys/types.h>

#include <boost/process/child.hpp>
#include <string>
#include <utility>
#include <vector>

#include "render/frame.h"

namespace enconvert::render {

class ChildProcess {
  public:
    // `env` is the child's whole environment. Throws std::runtime_error
    // when the process cannot be spawned.
    ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                 const std::vector<std::pair<std::string, std::string>>& env);
    // Kills (SIGKILL) and reaps the process if still there.
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    int read_fd() const { return stdout_fd_; }
    pid_t pid() const;

    // Feeds every byte available now into `decoder`. Returns false on EOF or
    // a read error: the child has exited or closed its stdout.
    bool read_available(FrameDecoder& decoder);

    // Appends to the outgoing buffer and writes as much as the pipe takes.
    // Returns false when the pipe is broken (child gone).
    bool send(const std::string& bytes);
    bool flush();
    bool write_pending() const { return !out_buffer_.empty(); }

    // Closes stdin: a healthy child finishes and exits on EOF.
    void close_stdin();
    // True once the process has exited (reaps it).
    bool exited();
    // After its output closed: waits a moment for the process to end, then
    // true when SIGTERM, SIGINT or SIGHUP ended it (a stop from outside;
    // the pool itself kills with SIGKILL, a crash is another signal).
    bool stopped_by_signal();

  private:
    boost::process::child process_;
    int stdin_fd_ = -1;
    int stdout_fd_ = -1;
    std::string out_buffer_;
};

}  // namespace enconvert::render

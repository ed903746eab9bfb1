// Why writing a renderer's output file failed, and whether it was for want
// of room: the worker queues such a job again for when there is room
// instead of failing it.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "util/no_space.h"

namespace enconvert::render_child {

struct WriteError {
    std::string message;    // empty: nothing failed
    bool no_space = false;  // the file system was full (util::is_no_space)

    bool failed() const { return !message.empty(); }
};

// `what`, then errno's sentence; no_space from errno. errno 0 (a library
// that failed without a system error) reads as an I/O error.
inline WriteError write_error_from_errno(const std::string& what, int err) {
    if (err == 0) err = EIO;
    return {what + ": " + std::strerror(err), util::is_no_space(err)};
}

// Flushes and closes `file` (taken over): what stdio still held is written
// here, so this is where a full disk often shows.
inline WriteError close_written_file(std::FILE* file) {
    const bool flushed = std::fflush(file) == 0;
    const int flush_err = errno;
    const bool closed = std::fclose(file) == 0;
    if (!flushed || !closed)
        return write_error_from_errno("cannot write the output file", flushed ? errno : flush_err);
    return {};
}

}  // namespace enconvert::render_child

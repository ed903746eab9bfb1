// The frame pipes to the worker, moved off stdin and stdout. Every process
// the renderer starts (WebKit's web and network processes, bubblewrap, the
// PDF probe) inherits descriptors 0 to 2: left there, a page that broke out
// of the browser engine could write frames to the worker (forged results
// for the jobs of this renderer) or read its requests, and a library
// printing to stdout would corrupt the frame stream. Once at start-up,
// after capture_foreign_output() and before any process is started, the
// pipes move to close-on-exec descriptors; fd 0 becomes /dev/null and fd 1
// a copy of fd 2 (the relay of other processes' output to the log).
#pragma once

#include <optional>

namespace enconvert::render_child {

struct WorkerPipes {
    int in = -1;   // frames from the worker
    int out = -1;  // frames to the worker
};

// Empty (the descriptors as they were) when a descriptor could not be made.
std::optional<WorkerPipes> take_worker_pipes();

}  // namespace enconvert::render_child

#include "render_child/worker_pipes.h"

#include <fcntl.h>
#include <unistd.h>

namespace enconvert::render_child {

std::optional<WorkerPipes> take_worker_pipes() {
    WorkerPipes pipes;
    pipes.in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    pipes.out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    const bool moved = pipes.in >= 0 && pipes.out >= 0 && null >= 0 &&
                       dup2(null, STDIN_FILENO) >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) >= 0;
    if (null >= 0) close(null);
    if (moved) return pipes;
    if (pipes.in >= 0) {
        dup2(pipes.in, STDIN_FILENO);
        close(pipes.in);
    }
    if (pipes.out >= 0) {
        dup2(pipes.out, STDOUT_FILENO);
        close(pipes.out);
    }
    return std::nullopt;
}

}  // namespace enconvert::render_child

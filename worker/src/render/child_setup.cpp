#include "render/child_setup.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace enconvert::render {

void prepare_child_for_exec(pid_t parent) noexcept {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died between fork and prctl: then nobody would
    // ever send the signal.
    if (getppid() != parent) _exit(127);
    if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
        // Kernels before 5.11: one descriptor at a time.
        rlimit files{};
        const rlim_t limit = getrlimit(RLIMIT_NOFILE, &files) == 0 ? files.rlim_cur : 1024;
        for (rlim_t fd = 3; fd < limit && fd < 65536; ++fd)
            fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }
}

}  // namespace enconvert::render

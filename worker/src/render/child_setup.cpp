#include "render/child_setup.h"

#include <signal.h>
#include <sys/prctl.h>
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
}

}  // namespace enconvert::render

// What every process the worker starts (renderer children, Xvfb) does
// between fork and exec, so that it never outlives the worker and starts
// with a clean signal state whatever thread spawned it.
#pragma once

#include <sys/types.h>

namespace enconvert::render {

// Call in the forked child before exec (async-signal-safe only):
// - unblocks every signal: the worker blocks SIGTERM/SIGINT in all its
//   threads for sigwait(), and a blocked mask survives exec — an Xvfb
//   started that way ignored the SIGTERM meant to stop it;
// - restores SIGPIPE's default action (the worker ignores it);
// - asks the kernel to SIGKILL the child when the spawning thread's
//   process dies (PR_SET_PDEATHSIG), so a worker killed with SIGKILL leaves
//   no orphan Xvfb or renderer; if the parent is already gone, exits;
// - makes every descriptor above 2 close-on-exec: libraries of the worker
//   open some without the flag (libcurl's multi handle keeps a socketpair
//   to wake itself), and a renderer passes what it inherits on to the web
//   processes that run the pages. A descriptor the child must inherit is
//   made inheritable again after this call.
// `parent` is the spawning process's pid, read before fork.
void prepare_child_for_exec(pid_t parent) noexcept;

}  // namespace enconvert::render

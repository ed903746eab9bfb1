// How much memory a renderer child really holds: the child plus every
// process it started (WebKit's web and network processes), read from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace enconvert::render {

// Sum over `root` and its descendants, in KiB: proportional set size
// (smaps_rollup, so libraries shared between WebKit's processes count once)
// where the kernel reports it, else resident set size. 0 when `root` is gone.
// A process killed or exiting counts 0: WebKit reports a web process it
// killed at its memory limit before that process has let go of its memory.
std::uint64_t process_tree_memory_kib(pid_t root);

// From the texts of /proc/<pid>/stat and /proc/<pid>/status: exiting
// (PF_EXITING, a zombie) or with SIGKILL pending.
bool process_is_dying(const std::string& stat, const std::string& status);

}  // namespace enconvert::render

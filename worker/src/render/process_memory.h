// How much memory a renderer child really holds: the child plus every
// process it started (WebKit's web and network processes), read from /proc.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace enconvert::render {

// Sum over `root` and its descendants, in KiB: proportional set size
// (smaps_rollup, so libraries shared between WebKit's processes count once)
// where the kernel reports it, else resident set size. 0 when `root` is gone.
std::uint64_t process_tree_memory_kib(pid_t root);

}  // namespace enconvert::render

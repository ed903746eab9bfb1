// The storage's scratch directory (`.tmp`) holds renders being written,
// files being uploaded and ZIPs being built. A worker killed (SIGKILL, OOM,
// power loss), or a render that finishes after its task was handed back,
// leaves entries there that nothing else removes: they would fill the disk
// over months and count against storage_min_free_mb.
#pragma once

#include <chrono>
#include <filesystem>

namespace enconvert::storage {

// Nothing of ours lives in `.tmp` this long (renders time out in minutes,
// ZIPs are built under a lease renewed every few seconds).
inline constexpr std::chrono::hours kStaleTempAge{6};

// Removes the entries of `dir` (files and directories, recursively) not
// modified for `older_than`; returns how many. Never throws: an entry that
// cannot be removed stays for the next sweep.
int remove_stale_temp_entries(const std::filesystem::path& dir,
                              std::chrono::seconds older_than = kStaleTempAge);

}  // namespace enconvert::storage

// Free space on a file system, as an unprivileged writer sees it (statvfs's
// f_bavail): the storage's guard against filling the disk renders and ZIPs
// are written to.
#pragma once

#include <sys/statvfs.h>

#include <cstdint>
#include <filesystem>

namespace enconvert::util {

// Whether `bytes` more can be written to the file system holding `dir` and
// still leave `keep_free` bytes. True when the space cannot be told: a
// failing statvfs must not stall the worker.
inline bool has_room_for(const std::filesystem::path& dir, std::uint64_t keep_free,
                         std::uint64_t bytes) {
    if (keep_free == 0 && bytes == 0) return true;
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return true;
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize >= keep_free + bytes;
}

}  // namespace enconvert::util

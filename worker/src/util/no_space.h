// Whether an errno says the file system had no room for a write: a full
// disk (ENOSPC) or a spent quota (EDQUOT). Such a write is worth trying
// again once there is room; any other write error is not.
#pragma once

#include <cerrno>

namespace enconvert::util {

inline bool is_no_space(int err) {
    return err == ENOSPC || err == EDQUOT;
}

}  // namespace enconvert::util

// The cookie that lets a client onto the worker's Xvfb. Without one an X
// server lets every local process connect (its abstract socket is shared
// by the whole host, PrivateTmp or not), and any local user could read
// the screen the views render other accounts' pages on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/owned_fd.h"

namespace enconvert::render {

// An MIT-MAGIC-COOKIE-1 in an X authority file: mode 0600, written
// through libXau, valid for any display (the display number is known only
// once Xvfb runs). Removed on destruction.
class XAuthorityFile {
  public:
    static constexpr const char* kProtocol = "MIT-MAGIC-COOKIE-1";
    using Cookie = std::vector<std::uint8_t>;

    // A fresh random cookie (16 bytes), for a server to start with, in a
    // 0700 directory made for it under $TMPDIR (/tmp). The directory goes
    // with it, with whatever else was put in it: the renderers' untrusted
    // cookies (below), also those of renderers that were killed. The
    // directory is locked (flock) while this process lives, and directories
    // of the same user left by processes that died without removing theirs
    // (SIGKILL) are removed first.
    // Throws std::runtime_error if the directory or the file cannot be made.
    XAuthorityFile();
    // A cookie the server made (the SECURITY extension's untrusted one), in
    // `directory` (the server's cookie's) or, when empty, in a directory of
    // its own as above.
    XAuthorityFile(const Cookie& cookie, const std::string& directory);
    ~XAuthorityFile();
    XAuthorityFile(const XAuthorityFile&) = delete;
    XAuthorityFile& operator=(const XAuthorityFile&) = delete;

    // For Xvfb's -auth and the clients' XAUTHORITY.
    const std::string& path() const { return path_; }
    const std::string& directory() const { return directory_; }

  private:
    bool owns_directory_ = false;
    util::OwnedFd lock_;  // the directory's lock, when owned
    std::string directory_;
    std::string path_;
};

}  // namespace enconvert::render

#include "render/x_authority.h"

#include <X11/Xauth.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace enconvert::render {

namespace {

XAuthorityFile::Cookie random_cookie() {
    XAuthorityFile::Cookie cookie(16);
    std::size_t done = 0;
    while (done < cookie.size()) {
        const ssize_t n = getrandom(cookie.data() + done, cookie.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("X authority: no random bytes for the cookie");
        done += static_cast<std::size_t>(n);
    }
    return cookie;
}

std::string make_private_directory() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/enconvert-x-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data()))  // mode 0700
        throw std::runtime_error("X authority: cannot create a directory in " + pattern + ": " +
                                 std::strerror(errno));
    return buffer.data();
}

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};

// Writes `cookie` to a new file `directory`/Xauthority-XXXXXX (0600);
// its path.
std::string write_authority(const std::string& directory, const XAuthorityFile::Cookie& cookie) {
    std::string pattern = directory + "/Xauthority-XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = mkstemp(name.data());  // mode 0600
    if (fd < 0)
        throw std::runtime_error("X authority: cannot create a file in " + directory + ": " +
                                 std::strerror(errno));
    const std::string path = name.data();
    std::unique_ptr<FILE, FileCloser> file(fdopen(fd, "wb"));
    if (!file) {
        close(fd);
        unlink(path.c_str());
        throw std::runtime_error("X authority: cannot open " + path);
    }
    // FamilyWild with no address and no display number: the entry matches
    // every client's lookup, whatever host name and display it asks for.
    std::string protocol = XAuthorityFile::kProtocol;
    std::vector<char> data(cookie.begin(), cookie.end());
    char empty[] = "";
    Xauth entry{};
    entry.family = FamilyWild;
    entry.address = empty;
    entry.number = empty;
    entry.name = protocol.data();
    entry.name_length = static_cast<unsigned short>(protocol.size());
    entry.data = data.data();
    entry.data_length = static_cast<unsigned short>(data.size());
    if (XauWriteAuth(file.get(), &entry) != 1 || std::fflush(file.get()) != 0) {
        unlink(path.c_str());
        throw std::runtime_error("X authority: cannot write " + path);
    }
    return path;
}

}  // namespace

XAuthorityFile::XAuthorityFile() : XAuthorityFile(random_cookie(), std::string()) {}

XAuthorityFile::XAuthorityFile(const Cookie& cookie, const std::string& directory) {
    if (cookie.empty() || cookie.size() > 0xffff)
        throw std::invalid_argument("X authority: a cookie of " + std::to_string(cookie.size()) +
                                    " bytes");
    owns_directory_ = directory.empty();
    directory_ = owns_directory_ ? make_private_directory() : directory;
    try {
        path_ = write_authority(directory_, cookie);
    } catch (...) {
        if (owns_directory_) rmdir(directory_.c_str());
        throw;
    }
}

XAuthorityFile::~XAuthorityFile() {
    unlink(path_.c_str());
    if (!owns_directory_) return;
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

}  // namespace enconvert::render

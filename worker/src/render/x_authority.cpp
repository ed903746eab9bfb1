#include "render/x_authority.h"

#include <X11/Xauth.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "util/owned_fd.h"

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

constexpr const char* kDirectoryPrefix = "enconvert-x-";
// Younger than this, a directory whose lock is free may be one whose
// maker has not locked it yet (it does so right after mkdtemp).
constexpr std::time_t kAbandonedAfterSeconds = 60;

std::string temporary_root() {
    const char* tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

// Removes `root`/enconvert-x-* directories whose maker is gone: a process
// holds a lock on its directory while it lives (the kernel drops it when
// the process dies, SIGKILL included, whatever its pid namespace), so a
// directory of ours that can be locked, and is not brand new, is
// abandoned. Only directories of this user, never through a symbolic link.
void remove_abandoned_directories(const std::string& root) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(root.c_str()), closedir);
    if (!dir) return;
    const std::time_t now = std::time(nullptr);
    const std::string prefix = kDirectoryPrefix;
    while (const dirent* entry = readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (name.size() != prefix.size() + 6 || name.rfind(prefix, 0) != 0) continue;
        const util::OwnedFd fd(openat(dirfd(dir.get()), name.c_str(),
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) continue;
        struct stat st {};
        if (fstat(fd.get(), &st) == 0 && st.st_uid == geteuid() &&
            now - st.st_mtime >= kAbandonedAfterSeconds &&
            flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
            std::error_code ignored;
            std::filesystem::remove_all(root + "/" + name, ignored);
        }
    }
}

// A new 0700 directory under $TMPDIR (/tmp), locked for as long as this
// process lives: the lock goes when `lock` is closed or the process dies.
std::string make_private_directory(util::OwnedFd& lock) {
    const std::string root = temporary_root();
    remove_abandoned_directories(root);
    std::string pattern = root + "/" + kDirectoryPrefix + "XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data()))  // mode 0700
        throw std::runtime_error("X authority: cannot create a directory in " + pattern + ": " +
                                 std::strerror(errno));
    util::OwnedFd fd(open(buffer.data(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || flock(fd.get(), LOCK_EX) != 0) {
        const int error = errno;
        fd.reset();
        rmdir(buffer.data());
        throw std::runtime_error(std::string("X authority: cannot lock ") + buffer.data() + ": " +
                                 std::strerror(error));
    }
    lock = std::move(fd);
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
    util::OwnedFd fd(mkstemp(name.data()));  // mode 0600
    if (!fd)
        throw std::runtime_error("X authority: cannot create a file in " + directory + ": " +
                                 std::strerror(errno));
    const std::string path = name.data();
    std::unique_ptr<FILE, FileCloser> file(fdopen(fd.get(), "wb"));
    if (!file) {
        unlink(path.c_str());
        throw std::runtime_error("X authority: cannot open " + path);
    }
    fd.release();  // the FILE closes it now
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
    directory_ = owns_directory_ ? make_private_directory(lock_) : directory;
    try {
        path_ = write_authority(directory_, cookie);
    } catch (...) {
        if (owns_directory_) rmdir(directory_.c_str());  // lock_ is closed with it
        throw;
    }
}

XAuthorityFile::~XAuthorityFile() {
    unlink(path_.c_str());
    if (!owns_directory_) return;
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
    // lock_ is closed after this body, once the directory is gone.
}

}  // namespace enconvert::render

#include "admin/curve_keygen_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "admin/command_errors.h"
#include "config/curve_keys.h"

namespace enconvert::admin {

namespace {

constexpr const char* kUsage = "usage: enconvert-worker curve-keygen --out PATH\n";

// Creates `path` with `mode` (never over an existing file) holding `line`.
void write_new_file(const std::string& path, mode_t mode, const std::string& line) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        throw std::runtime_error("cannot create '" + path + "': " + std::strerror(errno));
    }
    const std::string text = line + "\n";
    const bool ok = ::fchmod(fd, mode) == 0 &&  // whatever the umask
                    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                    ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        throw std::runtime_error("cannot write '" + path + "': " + std::strerror(saved));
    }
}

}  // namespace

int run_curve_keygen_command(const std::vector<std::string>& args, std::ostream& out,
                             std::ostream& err) {
    if (args.size() != 2 || args[0] != "--out" || args[1].empty()) {
        err << kUsage;
        return 2;
    }
    const std::string secret_path = args[1];
    const std::string public_path = secret_path + ".pub";
    return run_guarded(err, [&] {
        const config::CurveKeyPair keys = config::generate_curve_keypair();
        // The public file first: if the secret cannot be written, no
        // orphan secret is left behind.
        write_new_file(public_path, 0644, keys.public_key);
        try {
            write_new_file(secret_path, 0600, keys.secret_key);
        } catch (...) {
            ::unlink(public_path.c_str());
            throw;
        }
        out << "wrote the secret key to " << secret_path << " (mode 0600) and the public key to "
            << public_path << "; the public key:\n"
            << keys.public_key << "\n";
        return 0;
    });
}

}  // namespace enconvert::admin

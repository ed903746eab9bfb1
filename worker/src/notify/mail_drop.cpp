#include "notify/mail_drop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "util/owned_fd.h"

namespace enconvert::notify {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

std::filesystem::path write_eml(const std::filesystem::path& mail_dir, const std::string& job_id,
                                const std::string& message) {
    // Job ids are job_/batch_ + hex; refuse anything that could leave the dir.
    if (job_id.empty() || job_id.find_first_of("/\\.") != std::string::npos) {
        throw std::runtime_error("job id not usable as a file name");
    }
    std::error_code ec;
    std::filesystem::create_directories(mail_dir, ec);
    const std::filesystem::path final_path = mail_dir / (job_id + ".eml");
    std::string tmpl = (mail_dir / ("." + job_id + ".XXXXXX")).string();
    util::OwnedFd fd(::mkstemp(tmpl.data()));
    if (fd.get() < 0) fail("cannot create a file in " + mail_dir.string());
    const std::filesystem::path temp = tmpl;
    try {
        std::size_t done = 0;
        while (done < message.size()) {
            const ssize_t n = ::write(fd.get(), message.data() + done, message.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail("writing " + temp.string());
            done += static_cast<std::size_t>(n);
        }
        if (::fchmod(fd.get(), 0644) != 0) fail("chmod " + temp.string());
        if (::fsync(fd.get()) != 0) fail("fsync " + temp.string());
        if (::close(fd.release()) != 0) fail("close " + temp.string());
        if (::rename(temp.c_str(), final_path.c_str()) != 0)
            fail("rename to " + final_path.string());
    } catch (...) {
        std::filesystem::remove(temp, ec);
        throw;
    }
    return final_path;
}

}  // namespace enconvert::notify

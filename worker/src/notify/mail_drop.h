// Without an SMTP relay, notification mail goes to <mail_dir>/<job_id>.eml:
// useful for local stacks and for operators who pick files up themselves.
#pragma once

#include <filesystem>
#include <string>

namespace enconvert::notify {

// Writes the message atomically (temp file in the same directory, fsync,
// rename), so a reader never sees a half-written file. Throws
// std::runtime_error with the reason on failure. Returns the final path.
std::filesystem::path write_eml(const std::filesystem::path& mail_dir, const std::string& job_id,
                                const std::string& message);

}  // namespace enconvert::notify

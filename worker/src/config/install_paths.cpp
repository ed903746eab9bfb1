#include "config/install_paths.h"

#include <filesystem>

namespace enconvert::config {

namespace {

// <prefix> of the running binary: the parent of its bin/ directory.
std::filesystem::path install_prefix() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "/usr";
    return self.parent_path().parent_path();
}

}  // namespace

// Relative to <prefix>, from the install rules (CMakeLists.txt).
std::string installed_renderer_binary() {
    return (install_prefix() / ENCONVERT_RENDERER_PATH).string();
}

std::string installed_schema_dir() {
    return (install_prefix() / ENCONVERT_SCHEMA_PATH).string();
}

}  // namespace enconvert::config

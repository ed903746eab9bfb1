#include "storage/object_key.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "util/ascii.h"

namespace enconvert::storage {

namespace {

// ASCII only on purpose: std::isalnum depends on the locale.
bool is_ascii_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_name_char(unsigned char c) {
    return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-';
}

constexpr std::size_t kMaxNameLength = 100;

}  // namespace

std::string sanitize_name(std::string_view raw) {
    std::string out;
    for (unsigned char c : raw) {
        const char mapped = is_name_char(c) ? static_cast<char>(c) : '_';
        if ((mapped == '_' || mapped == '.') && !out.empty() && out.back() == mapped) continue;
        out += mapped;
    }
    auto trim = [](char c) { return c == '.' || c == '_' || c == '-'; };
    while (!out.empty() && trim(out.front())) out.erase(out.begin());
    while (!out.empty() && trim(out.back())) out.pop_back();
    if (out.size() > kMaxNameLength) {
        out.resize(kMaxNameLength);
        while (!out.empty() && trim(out.back())) out.pop_back();
    }
    return out;
}

std::string host_name_for_key(std::string_view url) {
    std::string_view rest = url;
    if (auto p = rest.find("://"); p != std::string_view::npos) rest = rest.substr(p + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    std::string host;
    if (!rest.empty() && rest.front() == '[') {
        // IPv6 literal: keep what is inside the brackets.
        host = std::string(rest.substr(1, rest.find(']') - 1));
    } else {
        host = std::string(rest.substr(0, rest.find(':')));
    }
    host = util::ascii_lower(host);
    std::replace(host.begin(), host.end(), '.', '-');
    std::replace(host.begin(), host.end(), ':', '-');
    std::string name = sanitize_name(host);
    return name.empty() ? "file" : name;
}

std::string format_for(std::string_view endpoint, const nlohmann::json& options) {
    if (endpoint == "url-to-pdf" || endpoint == "website-to-pdf") return "pdf";
    if (auto it = options.find("image_format"); it != options.end() && it->is_string()) {
        const std::string f = it->get<std::string>();
        if (f == "png" || f == "jpeg" || f == "webp") return f;
    }
    return "png";
}

std::string extension_for(std::string_view format) {
    if (format == "jpeg") return "jpg";
    return std::string(format);
}

std::string content_type_for(std::string_view format) {
    if (format == "pdf") return "application/pdf";
    if (format == "jpeg") return "image/jpeg";
    if (format == "webp") return "image/webp";
    if (format == "zip") return "application/zip";
    return "image/png";
}

namespace {

// The sanitised output_filename, if one is given that leaves a name.
std::optional<std::string> given_name(const nlohmann::json& options, std::string_view ext) {
    auto it = options.find("output_filename");
    if (it == options.end() || !it->is_string()) return std::nullopt;
    std::string raw = it->get<std::string>();
    const std::string suffix = "." + std::string(ext);
    if (raw.size() > suffix.size() &&
        util::ascii_lower(raw.substr(raw.size() - suffix.size())) == util::ascii_lower(suffix)) {
        raw.resize(raw.size() - suffix.size());
    }
    std::string name = sanitize_name(raw);
    if (name.empty()) return std::nullopt;
    return name;
}

}  // namespace

std::string output_name(const nlohmann::json& options, std::string_view url, std::string_view ext) {
    if (auto name = given_name(options, ext)) return *name;
    return host_name_for_key(url);
}

namespace {

// live/files/<account>/<endpoint>/<name>_<stamp>_<id>.<ext>: one shape for
// a task's file and a batch's ZIP.
std::string files_key(std::string_view account_public_id, std::string_view endpoint,
                      std::string_view name, std::string_view stamp, std::string_view id,
                      std::string_view ext) {
    std::string key = "live/files/";
    for (std::string_view part :
         {account_public_id, std::string_view("/"), endpoint, std::string_view("/"), name,
          std::string_view("_"), stamp, std::string_view("_"), id, std::string_view("."), ext})
        key += part;
    return key;
}

}  // namespace

std::string build_object_key(std::string_view account_public_id, std::string_view endpoint,
                             std::string_view name, std::string_view stamp, std::int64_t task_id,
                             std::string_view ext, int claim) {
    std::string id = std::to_string(task_id);
    if (claim > 1) id += "-" + std::to_string(claim);
    return files_key(account_public_id, endpoint, name, stamp, id, ext);
}

std::string result_object_key(std::string_view account_public_id, std::string_view endpoint,
                              const nlohmann::json& options, std::string_view url,
                              std::string_view job_stamp, std::int64_t task_id, int claim) {
    const std::string ext = extension_for(format_for(endpoint, options));
    return build_object_key(account_public_id, endpoint, output_name(options, url, ext), job_stamp,
                            task_id, ext, claim);
}

std::string build_archive_key(std::string_view account_public_id, std::string_view endpoint,
                              const nlohmann::json& options, std::string_view stamp,
                              std::string_view job_id) {
    // Not output_name(): it falls back to the URL's host, and a batch has
    // many. (Comparing with that fallback took a user's "file" for none.)
    const std::string name = given_name(options, "zip").value_or("batch");
    return files_key(account_public_id, endpoint, name, stamp, job_id, "zip");
}

bool is_valid_object_key(std::string_view key) {
    if (key.empty() || key.front() == '/' || key.find("..") != std::string_view::npos) {
        return false;
    }
    // It names a file, "<name>.<ext>": a directory's key (an account's or
    // endpoint's folder) was served by nginx as a redirect or a refusal,
    // an HTML page that also showed where the files lie.
    const std::string_view file = key.substr(key.rfind('/') + 1);
    const std::size_t dot = file.rfind('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == file.size()) return false;
    return std::all_of(key.begin(), key.end(),
                       [](unsigned char c) { return is_name_char(c) || c == '/'; });
}

}  // namespace enconvert::storage

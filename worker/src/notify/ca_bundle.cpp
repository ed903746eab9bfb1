#include "notify/ca_bundle.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "curl/curl_handles.h"

namespace enconvert::notify {

namespace {

bool read_file(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

}  // namespace

std::string system_ca_bundle_path() {
    curl::ensure_curl_global_init();
    curl::CurlEasy h = curl::make_easy();
    char* path = nullptr;
    // CURLINFO_CAINFO (7.84+) reports the built-in default.
    if (curl_easy_getinfo(h.get(), CURLINFO_CAINFO, &path) == CURLE_OK && path != nullptr) {
        return path;
    }
    return "/etc/ssl/certs/ca-certificates.crt";
}

std::string combined_ca_bundle(const std::string& extra_ca_file) {
    if (extra_ca_file.empty()) return {};
    std::string extra;
    if (!read_file(extra_ca_file, extra)) {
        throw std::runtime_error("cannot read tls_ca_file '" + extra_ca_file + "'");
    }
    if (extra.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        throw std::runtime_error("tls_ca_file '" + extra_ca_file + "' holds no PEM certificate");
    }
    std::string bundle;
    // A machine without a system bundle still trusts the extra CAs.
    read_file(system_ca_bundle_path(), bundle);
    if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
    bundle += extra;
    return bundle;
}

}  // namespace enconvert::notify

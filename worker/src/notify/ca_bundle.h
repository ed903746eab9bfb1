// Outbound TLS trust: the system CAs plus the operator's tls_ca_file.
// CURLOPT_CAINFO takes a single file, so both are concatenated once at
// startup into a PEM blob handed to every transfer with CURLOPT_CAINFO_BLOB.
#pragma once

#include <string>

namespace enconvert::notify {

// libcurl's compiled-in CA bundle path (Debian: /etc/ssl/certs/ca-certificates.crt).
std::string system_ca_bundle_path();

// System bundle + extra_ca_file, as PEM text. Empty extra_ca_file: empty
// result, meaning "use libcurl's defaults". Throws std::runtime_error if the
// extra file is unreadable or holds no certificate.
std::string combined_ca_bundle(const std::string& extra_ca_file);

}  // namespace enconvert::notify

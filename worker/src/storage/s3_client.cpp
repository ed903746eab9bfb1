#include "storage/s3_client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "curl/curl_handles.h"
#include "storage/s3_xml.h"
#include "storage/storage.h"
#include "util/ascii.h"
#include "util/crypto.h"
#include "util/no_space.h"

namespace enconvert::storage {

namespace {

// Answers kept in memory (error and XML answers) are short; anything longer
// is cut. An object's bytes go to a file, whole (S3Client::get_object_to).
constexpr std::size_t kMaxAnswerBytes = 1 << 20;
constexpr std::size_t kMaxMessageChars = 200;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using OwnedFile = std::unique_ptr<std::FILE, FileCloser>;

// A fetched object that could not be written locally: `full` on a full disk.
StorageError write_failed(int err) {
    return StorageError(std::string("cannot write a fetched object: ") + std::strerror(err),
                        util::is_no_space(err));
}

struct Received {
    CURL* handle = nullptr;
    std::string body;
    std::string etag;
    std::FILE* file = nullptr;  // a 2xx answer's body goes here when set
    int write_error = 0;        // errno of a failed write to `file`
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* r = static_cast<Received*>(user);
    const size_t bytes = size * n;
    long status = 0;
    curl_easy_getinfo(r->handle, CURLINFO_RESPONSE_CODE, &status);
    if (r->file != nullptr && status >= 200 && status <= 299) {
        if (std::fwrite(data, 1, bytes, r->file) == bytes) return bytes;
        r->write_error = errno != 0 ? errno : EIO;
        return 0;  // libcurl ends the transfer (CURLE_WRITE_ERROR)
    }
    if (r->body.size() < kMaxAnswerBytes)
        r->body.append(data, std::min(bytes, kMaxAnswerBytes - r->body.size()));
    return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* r = static_cast<Received*>(user);
    const size_t bytes = size * n;
    std::string_view line(data, bytes);
    constexpr std::string_view kName = "etag:";
    if (line.size() > kName.size() && util::ascii_lower(line.substr(0, kName.size())) == kName) {
        line.remove_prefix(kName.size());
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.remove_suffix(1);
        r->etag = std::string(line);
    }
    return bytes;
}

// The store's words, printable and short, for a task's error sentence.
std::string tidy(std::string_view text) {
    std::string out;
    for (unsigned char c : text.substr(0, kMaxMessageChars))
        out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
    while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
    return out;
}

bool retryable_code(std::string_view code) {
    return code == "RequestTimeout" || code == "SlowDown" || code == "InternalError" ||
           code == "ServiceUnavailable" || code == "OperationAborted";
}

[[noreturn]] void fail_with_answer(long status, std::string_view body) {
    const auto err = s3xml::parse_error(body);
    std::string what = "the object store answered HTTP " + std::to_string(status);
    if (err && !err->code.empty()) {
        what += " " + tidy(err->code);
        if (!err->message.empty()) what += " (" + tidy(err->message) + ")";
    }
    const bool retry =
        status >= 500 || status == 408 || status == 429 || (err && retryable_code(err->code));
    throw S3Error(what, retry);
}

// Connection trouble may pass; a certificate the store does not have, or
// a URL libcurl cannot use, stays as it is.
bool transient(CURLcode rc) {
    switch (rc) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return false;
        default:
            return true;
    }
}

void set(CURL* h, CURLoption opt, auto value) {
    if (curl_easy_setopt(h, opt, value) != CURLE_OK)
        throw S3Error("libcurl refused an option of the upload", false);
}

}  // namespace

S3Client::S3Client(S3Endpoint endpoint, std::string region, sigv4::Credentials credentials,
                   S3ClientOptions options)
    : endpoint_(std::move(endpoint)),
      region_(std::move(region)),
      credentials_(std::move(credentials)),
      options_(std::move(options)) {}

S3Client::Answer S3Client::send(const char* method, std::string_view key, const std::string& query,
                                std::string_view body, std::string_view content_type,
                                std::FILE* to_file, bool new_object) {
    curl::CurlEasy easy = curl::make_easy();
    CURL* h = easy.get();
    const std::string url = endpoint_.url(key, query);
    const std::string sigv4 = "aws:amz:" + region_ + ":s3";
    Received received;
    received.handle = h;
    received.file = to_file;
    char error_text[CURL_ERROR_SIZE] = {};

    curl::CurlSlist headers;
    // libcurl signs this header's value as the payload hash: the store
    // refuses a body that does not match it.
    headers.append("x-amz-content-sha256: " + util::sha256_hex(body));
    if (!content_type.empty()) headers.append("Content-Type: " + std::string(content_type));
    // The store answers a presigned link's GET with what the object was
    // stored with: results are private and their links expire, so no
    // shared cache may keep them (as nginx's files location says for the
    // local storage, docs/api.md).
    if (new_object) headers.append("Cache-Control: no-store");

    set(h, CURLOPT_URL, url.c_str());
    set(h, CURLOPT_CUSTOMREQUEST, method);
    if (std::string_view(method) == "PUT" || std::string_view(method) == "POST") {
        set(h, CURLOPT_POSTFIELDS, body.data());
        set(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    set(h, CURLOPT_HTTPHEADER, headers.get());
    set(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
    set(h, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
    set(h, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "http,https");
    set(h, CURLOPT_NOSIGNAL, 1L);
    set(h, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_seconds);
    set(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    set(h, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_seconds);
    set(h, CURLOPT_WRITEFUNCTION, on_body);
    set(h, CURLOPT_WRITEDATA, &received);
    set(h, CURLOPT_HEADERFUNCTION, on_header);
    set(h, CURLOPT_HEADERDATA, &received);
    set(h, CURLOPT_ERRORBUFFER, error_text);
    if (!options_.ca_pem.empty()) {
        curl_blob blob{const_cast<char*>(options_.ca_pem.data()), options_.ca_pem.size(),
                       CURL_BLOB_NOCOPY};
        set(h, CURLOPT_CAINFO_BLOB, &blob);
    }

    const CURLcode rc = curl_easy_perform(h);
    if (received.write_error != 0) throw write_failed(received.write_error);
    if (rc != CURLE_OK) {
        const std::string why = error_text[0] != '\0' ? error_text : curl_easy_strerror(rc);
        throw S3Error("the object store could not be reached (" + tidy(why) + ")", transient(rc));
    }
    Answer a;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    a.body = std::move(received.body);
    a.etag = std::move(received.etag);
    if (a.status < 200 || a.status > 299) fail_with_answer(a.status, a.body);
    return a;
}

void S3Client::put_object(std::string_view key, std::string_view body,
                          std::string_view content_type) {
    send("PUT", key, "", body, content_type, nullptr, true);
}

std::string S3Client::create_multipart_upload(std::string_view key, std::string_view content_type) {
    // "uploads=": the canonical form of the bare ?uploads sub-resource.
    const Answer a = send("POST", key, "uploads=", "", content_type, nullptr, true);
    auto id = s3xml::parse_upload_id(a.body);
    if (!id) throw S3Error("the object store started a multipart upload without an id", true);
    return *id;
}

std::string S3Client::upload_part(std::string_view key, std::string_view upload_id, int part_number,
                                  std::string_view body) {
    // Sorted by name, as the canonical query string must be.
    const std::string query = "partNumber=" + std::to_string(part_number) +
                              "&uploadId=" + sigv4::uri_encode(upload_id, true);
    const Answer a = send("PUT", key, query, body, "application/octet-stream");
    if (a.etag.empty()) throw S3Error("the object store stored a part without an ETag", true);
    return a.etag;
}

void S3Client::complete_multipart_upload(std::string_view key, std::string_view upload_id,
                                         const std::vector<std::string>& etags) {
    const std::string query = "uploadId=" + sigv4::uri_encode(upload_id, true);
    const Answer a =
        send("POST", key, query, s3xml::complete_multipart_body(etags), "application/xml");
    // S3 may answer 200 and report the failure in the body.
    if (s3xml::parse_error(a.body)) fail_with_answer(a.status, a.body);
}

void S3Client::abort_multipart_upload(std::string_view key, std::string_view upload_id) {
    send("DELETE", key, "uploadId=" + sigv4::uri_encode(upload_id, true), "", "");
}

void S3Client::get_object_to(std::string_view key, const std::filesystem::path& dest) {
    OwnedFile file(std::fopen(dest.c_str(), "wb"));
    if (!file) throw write_failed(errno);
    send("GET", key, "", "", "", file.get());
    // fclose flushes: a full disk may show only here
    if (std::fclose(file.release()) != 0) throw write_failed(errno);
}

void S3Client::delete_object(std::string_view key) {
    send("DELETE", key, "", "", "");
}

}  // namespace enconvert::storage

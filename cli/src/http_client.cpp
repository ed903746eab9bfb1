#include "http_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cli_error.h"

namespace enconvert::cli {

namespace {

using curl::set_option;

// API answers are small JSON objects (a 100-URL status is well under 1 MiB);
// anything bigger kept in memory is not an answer of this API.
constexpr std::size_t kMaxAnswerBytes = 16 * 1024 * 1024;
constexpr long kConnectTimeoutSeconds = 10;
// enconvert_timeout (10 s by default) bounds how long nginx waits for the
// worker; this only catches a server that stopped answering altogether.
constexpr long kApiTimeoutSeconds = 120;
// Result files can be large: a download fails only when it stalls.
constexpr long kStalledDownloadSeconds = 60;

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Where the body of an answer goes: the download file for a 200 answer to
// a download, memory otherwise.
struct Sink {
    CURL* handle = nullptr;
    std::FILE* file = nullptr;
    std::string memory;
    int write_errno = 0;
    bool too_large = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
    Sink& sink = *static_cast<Sink*>(user);
    const std::size_t bytes = size * count;
    long status = 0;
    curl_easy_getinfo(sink.handle, CURLINFO_RESPONSE_CODE, &status);
    if (sink.file != nullptr && status == 200) {
        if (std::fwrite(data, 1, bytes, sink.file) != bytes) {
            sink.write_errno = errno;
            return 0;
        }
        return bytes;
    }
    if (sink.memory.size() + bytes > kMaxAnswerBytes) {
        sink.too_large = true;
        return 0;
    }
    sink.memory.append(data, bytes);
    return bytes;
}

// The handle keeps pointers to this call's buffers; forgetting them when
// the call ends (connections stay cached) means none can dangle.
struct ResetWhenDone {
    CURL* handle;
    ~ResetWhenDone() { curl_easy_reset(handle); }
};

HttpAnswer perform(CURL* handle, const std::string& url, const std::vector<std::string>& headers,
                   Sink& sink, const std::string& file_name) {
    ResetWhenDone reset{handle};
    char error_text[CURL_ERROR_SIZE] = "";
    curl::CurlSlist header_list;
    for (const auto& line : headers) header_list.append(line);
    // curl would otherwise wait for a 100 Continue before sending a large body.
    header_list.append("Expect:");

    sink.handle = handle;
    set_option(handle, CURLOPT_URL, url.c_str());
    set_option(handle, CURLOPT_ERRORBUFFER, error_text);
    set_option(handle, CURLOPT_NOSIGNAL, 1L);
    set_option(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    set_option(handle, CURLOPT_USERAGENT, "enconvert-cli");
    set_option(handle, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
    set_option(handle, CURLOPT_HTTPHEADER, header_list.get());
    set_option(handle, CURLOPT_WRITEFUNCTION, write_body);
    set_option(handle, CURLOPT_WRITEDATA, &sink);
    if (sink.file != nullptr) {
        set_option(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
        set_option(handle, CURLOPT_LOW_SPEED_TIME, kStalledDownloadSeconds);
    } else {
        set_option(handle, CURLOPT_TIMEOUT, kApiTimeoutSeconds);
    }

    const CURLcode result = curl_easy_perform(handle);
    if (sink.write_errno != 0) {
        throw CliError(ExitCode::local_file,
                       "cannot write " + file_name + ": " + std::strerror(sink.write_errno));
    }
    if (sink.too_large) {
        throw CliError(ExitCode::server_error,
                       "the answer from " + origin_of(url) + " is too large to be an API answer");
    }
    if (result != CURLE_OK) {
        const std::string why = error_text[0] != '\0' ? error_text : curl_easy_strerror(result);
        throw CliError(ExitCode::network, "cannot reach " + origin_of(url) + ": " + why);
    }
    HttpAnswer answer;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &answer.status);
    answer.body = std::move(sink.memory);
    return answer;
}

}  // namespace

HttpClient::HttpClient() : handle_(curl::make_easy()) {}

HttpAnswer HttpClient::get(const std::string& url, const std::vector<std::string>& headers) {
    Sink sink;
    return perform(handle_.get(), url, headers, sink, "");
}

HttpAnswer HttpClient::post(const std::string& url, const std::string& body,
                            const std::vector<std::string>& headers) {
    set_option(handle_.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    set_option(handle_.get(), CURLOPT_POSTFIELDS, body.c_str());
    Sink sink;
    return perform(handle_.get(), url, headers, sink, "");
}

HttpAnswer HttpClient::download(const std::string& url, const std::filesystem::path& file) {
    // The output directory may be one others can write to: a link planted
    // at the file's (predictable) name must not make the download write
    // where it points. Whatever has the name goes; the file is created anew.
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    File out(fd == -1 ? nullptr : ::fdopen(fd, "wb"));
    if (!out) {
        const int error = errno;
        if (fd != -1) ::close(fd);
        throw CliError(ExitCode::local_file,
                       "cannot create " + file.string() + ": " + std::strerror(error));
    }
    Sink sink;
    sink.file = out.get();
    HttpAnswer answer = perform(handle_.get(), url, {}, sink, file.string());
    // fclose flushes: its failure (a full disk) is a failed write too.
    if (std::fclose(out.release()) != 0) {
        throw CliError(ExitCode::local_file,
                       "cannot write " + file.string() + ": " + std::strerror(errno));
    }
    return answer;
}

std::string origin_of(const std::string& url) {
    curl::CurlUrl parsed(curl_url());
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        return url;
    }
    auto part = [&](CURLUPart which) {
        char* text = nullptr;
        if (curl_url_get(parsed.get(), which, &text, 0) != CURLUE_OK) return std::string();
        curl::CurlString owned(text);
        return std::string(owned.get());
    };
    std::string origin = part(CURLUPART_SCHEME) + "://" + part(CURLUPART_HOST);
    if (const std::string port = part(CURLUPART_PORT); !port.empty()) origin += ":" + port;
    return origin;
}

}  // namespace enconvert::cli

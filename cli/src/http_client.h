// HTTP over libcurl for the client: one easy handle kept for the whole
// command, so polling reuses its connection. Redirects are not followed
// (the API never redirects; a redirect means ENCONVERT_URL is wrong).
// Failing to reach the server throws CliError(network).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "curl/curl_handles.h"
#include "http_answer.h"

namespace enconvert::cli {

class HttpClient {
  public:
    HttpClient();

    HttpAnswer get(const std::string& url, const std::vector<std::string>& headers);
    HttpAnswer post(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers);

    // Writes the body of a 200 answer to `file` (created or truncated); the
    // body of any other answer (an error to report) is returned instead.
    // Failing to write the file throws CliError(local_file).
    HttpAnswer download(const std::string& url, const std::filesystem::path& file);

  private:
    curl::CurlEasy handle_;
};

// "scheme://host[:port]" of `url`, for messages that must not repeat a
// signed link's query; `url` itself when it does not parse.
std::string origin_of(const std::string& url);

}  // namespace enconvert::cli

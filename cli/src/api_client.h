// The enconvert HTTP API as the client uses it (docs/api.md): submitting
// URLs, reading a job's status. Every answer other than the one asked for
// becomes a CliError with the API's own explanation (api_error.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.h"
#include "job_status.h"
#include "service_settings.h"

namespace enconvert::cli {

enum class Endpoint { pdf, screenshot };

struct SubmittedJob {
    std::string job_id;  // job_… (one URL) or batch_… (several)
    std::string status;
};

// The JSON body of a conversion request: one URL is sent as a string with
// async_mode (so the request does not wait for the render), several as an
// array (always asynchronous).
nlohmann::json conversion_request(const std::vector<std::string>& urls);

// The API's rule for ids it looks up (docs/api.md, "Job status"): 1..128 of
// [A-Za-z0-9_-]. Anything else is no job, and might not even stay one path
// segment (nginx decodes "%2F" and resolves "..").
bool could_be_job_id(const std::string& id);

class ApiClient {
  public:
    ApiClient(HttpClient& http, ServiceSettings settings);

    SubmittedJob submit(Endpoint endpoint, const std::vector<std::string>& urls);
    // CliError(not_found) for an id that cannot be one, without asking.
    // Members in the order the API sent them, so --json shows them so.
    nlohmann::ordered_json status_answer(const std::string& job_id);
    JobStatus status(const std::string& job_id) { return parse_job_status(status_answer(job_id)); }

    std::string status_url(const std::string& job_id) const;

  private:
    std::vector<std::string> headers() const;

    HttpClient& http_;
    ServiceSettings settings_;
};

}  // namespace enconvert::cli

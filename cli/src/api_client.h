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

class ApiClient {
  public:
    ApiClient(HttpClient& http, ServiceSettings settings);

    SubmittedJob submit(Endpoint endpoint, const std::vector<std::string>& urls);
    nlohmann::json status_answer(const std::string& job_id);
    JobStatus status(const std::string& job_id) { return parse_job_status(status_answer(job_id)); }

    std::string status_url(const std::string& job_id) const;

  private:
    std::vector<std::string> headers() const;
    nlohmann::json json_body(const std::string& context, const HttpAnswer& answer) const;

    HttpClient& http_;
    ServiceSettings settings_;
};

}  // namespace enconvert::cli

#include "api_client.h"

#include "api_error.h"
#include "cli_error.h"
#include "json_fields.h"

namespace enconvert::cli {

nlohmann::json conversion_request(const std::vector<std::string>& urls) {
    if (urls.size() == 1) return {{"url", urls.front()}, {"async_mode", true}};
    return {{"url", urls}};
}

bool could_be_job_id(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!allowed) return false;
    }
    return true;
}

ApiClient::ApiClient(HttpClient& http, ServiceSettings settings)
    : http_(http), settings_(std::move(settings)) {}

std::vector<std::string> ApiClient::headers() const {
    return {"Authorization: Bearer " + settings_.api_key, "Accept: application/json"};
}

namespace {

template <typename Json>
Json json_object(const std::string& context, const HttpAnswer& answer) {
    auto body = Json::parse(answer.body, nullptr, false);
    if (!body.is_object()) {
        throw CliError(ExitCode::server_error,
                       context + ": the server answered HTTP " + std::to_string(answer.status) +
                           " without a JSON object (is ENCONVERT_URL an enconvert API?)");
    }
    return body;
}

CliError refused(const std::string& context, const HttpAnswer& answer) {
    CliError error = api_error(context, answer);
    if (error.code() != ExitCode::authentication) return error;
    return CliError(error.code(), std::string(error.what()) + "; check ENCONVERT_API_KEY");
}

}  // namespace

SubmittedJob ApiClient::submit(Endpoint endpoint, const std::vector<std::string>& urls) {
    const std::string route =
        endpoint == Endpoint::pdf ? "v1/convert/url-to-pdf" : "v1/convert/url-to-screenshot";
    std::vector<std::string> request_headers = headers();
    request_headers.emplace_back("Content-Type: application/json");
    const HttpAnswer answer =
        http_.post(api_url(settings_, route), conversion_request(urls).dump(), request_headers);
    const std::string context = "convert";
    // 202 is the answer to an asynchronous request; 200 would be a server
    // that rendered anyway, which still names its job.
    if (answer.status != 202 && answer.status != 200) throw refused(context, answer);
    const auto body = json_object<nlohmann::json>(context, answer);
    SubmittedJob job;
    job.job_id = string_member(body, "job_id");
    job.status = string_member(body, "status");
    if (job.job_id.empty()) {
        throw CliError(ExitCode::server_error, context + ": the answer names no job_id");
    }
    return job;
}

nlohmann::ordered_json ApiClient::status_answer(const std::string& job_id) {
    if (!could_be_job_id(job_id)) {
        throw CliError(ExitCode::not_found,
                       one_line("status of " + job_id) +
                           ": not a job id (job_… or batch_… and 32 hex digits)");
    }
    const HttpAnswer answer = http_.get(status_url(job_id), headers());
    const std::string context = "status of " + job_id;
    if (answer.status != 200) throw refused(context, answer);
    return json_object<nlohmann::ordered_json>(context, answer);
}

std::string ApiClient::status_url(const std::string& job_id) const {
    return api_url(settings_, "v1/convert/status/" + job_id);
}

}  // namespace enconvert::cli

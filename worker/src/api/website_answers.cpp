#include "api/website_answers.h"

namespace enconvert::api {

using nlohmann::json;

namespace {

json opt(const std::optional<std::string>& v) {
    return v ? json(*v) : json(nullptr);
}

// The status a failed discovery answers with: the request asked for
// something this site cannot give (400), or the worker failed (500).
int failure_status(const std::string& code) {
    return code == "no_sitemap" || code == "no_pages" || code == "invalid_url" ? 400 : 500;
}

// The target of the job's notification of `type` ("email", "webhook"), if
// it asked for one: the status object's list names it from the start.
std::optional<std::string> notification_target(const db::JobView& job, const char* type) {
    for (const json& n : job.notifications) {
        if (n.value("type", "") == type && n.contains("target") && n["target"].is_string())
            return n["target"].get<std::string>();
    }
    return std::nullopt;
}

std::string accepted_message(const db::JobView& job, std::size_t pages) {
    std::string m = "Website capture queued: " + std::to_string(pages) +
                    (pages == 1 ? " page" : " pages") + " found";
    if (job.discovery_truncated) m += " (cut at the page limit)";
    m += ". ";
    // As every 202 of a job: name where its notifications go.
    const std::string notified = notification_sentences(notification_target(job, "email"),
                                                        notification_target(job, "webhook"));
    if (!notified.empty()) m += notified + " ";
    return m + "Poll GET /v1/convert/batch/" + job.id + " for progress; the pages come as one ZIP.";
}

}  // namespace

std::optional<HttpAnswer> website_answer(const db::JobView& job) {
    if (job.discovery_state == "pending" || job.discovery_state.empty()) return std::nullopt;
    if (job.discovery_state == "failed") {
        const db::TaskView failed = *discovery_failure_task(job);
        return error_answer(failure_status(*failed.error_code), *failed.error_code, *failed.error,
                            std::nullopt, job.id);
    }
    return json_answer(202, json{{"success", true},
                                 {"status", "processing"},
                                 {"message", accepted_message(job, job.tasks.size())},
                                 {"job_id", job.id},
                                 {"batch_id", job.id},
                                 {"url_count", job.tasks.size()},
                                 {"total_discovered", job.discovery_total.value_or(0)},
                                 {"discovery_method", opt(job.discovery_method)},
                                 {"truncated", job.discovery_truncated},
                                 {"output_format", "zip"}});
}

std::optional<db::TaskView> discovery_failure_task(const db::JobView& job) {
    if (job.discovery_state != "failed" || !job.tasks.empty()) return std::nullopt;
    db::TaskView t;
    if (const auto it = job.options.find("url"); it != job.options.end() && it->is_string())
        t.url = it->get<std::string>();
    t.status = "failed";
    t.error_code = job.discovery_error_code.value_or("internal_error");
    t.error = job.discovery_error.value_or("The site's pages could not be found.");
    return t;
}

json discovery_json(const db::JobView& job) {
    if (job.discovery_state.empty()) return nullptr;
    return json{
        {"state", job.discovery_state},
        {"method", opt(job.discovery_method)},
        {"total_discovered", job.discovery_total ? json(*job.discovery_total) : json(nullptr)},
        {"truncated", job.discovery_truncated},
        {"error_code", opt(job.discovery_error_code)},
        {"error", opt(job.discovery_error)}};
}

}  // namespace enconvert::api

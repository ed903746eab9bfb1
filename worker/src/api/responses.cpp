#include "api/responses.h"

#include <cstdio>

#include "api/website_answers.h"
#include "storage/object_key.h"

namespace enconvert::api {

using nlohmann::json;

HttpAnswer json_answer(int status, const json& body) {
    HttpAnswer a;
    a.status = status;
    a.body = body.dump();
    return a;
}

std::string seconds_text(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", seconds);
    return buf;
}

std::string notification_sentences(const std::optional<std::string>& email,
                                   const std::optional<std::string>& callback_url) {
    std::string s;
    if (email && !email->empty()) s = "You will be notified at " + *email + " when complete.";
    if (callback_url && !callback_url->empty()) {
        s += (s.empty() ? "" : " ");
        s += "Results will be sent to your callback URL.";
    }
    return s;
}

std::string accepted_message(const std::string& job_id, const std::optional<std::string>& email,
                             const std::optional<std::string>& callback_url) {
    const std::string notified = notification_sentences(email, callback_url);
    if (!notified.empty()) return "Job queued. " + notified;
    // The reference page has no wording for this case: point at the status
    // endpoint with the real id, so the message is actionable as it stands.
    return "Job queued. Poll GET /v1/convert/status/" + job_id + " for results.";
}

HttpAnswer accepted_answer(const std::string& job_id, const std::string& status,
                           const std::optional<std::string>& email,
                           const std::optional<std::string>& callback_url, std::size_t url_count,
                           bool zip) {
    return json_answer(202, json{{"success", true},
                                 {"message", accepted_message(job_id, email, callback_url)},
                                 {"job_id", job_id},
                                 {"batch_id", job_id},
                                 {"url_count", url_count},
                                 {"output_format", zip ? "zip" : "individual"},
                                 {"status", status}});
}

HttpAnswer error_answer(int status, const std::string& code, const std::string& detail,
                        const std::optional<std::string>& field,
                        const std::optional<std::string>& job_id) {
    json body{{"success", false}, {"error", code}, {"detail", detail}};
    if (field) body["field"] = *field;
    if (job_id) body["job_id"] = *job_id;
    HttpAnswer a = json_answer(status, body);
    if (status == 503) a.headers.emplace_back("Retry-After", "5");
    return a;
}

HttpAnswer invalid_api_key_answer() {
    return error_answer(401, "invalid_api_key", "The API key is not valid or has been revoked.");
}

HttpAnswer job_expired_answer(const std::string& job_id) {
    return error_answer(410, "expired",
                        "Job " + job_id +
                            " has expired: its files and results were deleted at the end of the "
                            "retention period.",
                        std::nullopt, job_id);
}

HttpAnswer job_not_found_answer() {
    return error_answer(404, "job_not_found", "No job with this id exists for your account.");
}

HttpAnswer database_unavailable_answer() {
    return error_answer(503, "database_unavailable",
                        "The service is temporarily unable to reach its database. "
                        "Retry in a few seconds.");
}

HttpAnswer commit_in_doubt_answer(bool idempotency_key) {
    return error_answer(503, "database_unavailable",
                        std::string("The database connection was lost while the job was being "
                                    "committed; the job may have been created. ") +
                            (idempotency_key ? "Retry with the same Idempotency-Key, which "
                                               "creates no second job."
                                             : "Check before resubmitting, or send an "
                                               "Idempotency-Key to make a retry safe."));
}

HttpAnswer worker_stopping_answer() {
    HttpAnswer a = error_answer(503, "backend_unavailable",
                                "This conversion worker is stopping; the request was not "
                                "enqueued. Retry in a moment.");
    a.headers.clear();  // instead of error_answer's 503 default
    a.headers.emplace_back("Retry-After", "1");
    return a;
}

HttpAnswer finished_job_unreadable_answer(const std::string& job_id) {
    return error_answer(503, "database_unavailable",
                        "The job finished, but its result could not be read from the database. "
                        "Poll GET /v1/convert/status/" +
                            job_id + " in a few seconds.",
                        std::nullopt, job_id);
}

HttpAnswer internal_error_answer() {
    return error_answer(500, "internal_error",
                        "The worker could not process the request. Retry later.");
}

HttpAnswer idempotency_conflict_answer() {
    return error_answer(409, "idempotency_conflict",
                        "This Idempotency-Key was already used with a different request body.",
                        std::string("Idempotency-Key"));
}

HttpAnswer bad_message_answer(const std::string& detail) {
    return error_answer(400, "bad_message", detail);
}

HttpAnswer queue_full_answer(db::QueueBound bound, std::int64_t limit, std::size_t task_count) {
    // Long enough for a full queue to drain noticeably, short enough for a
    // client to come back before its work is stale.
    constexpr const char* kRetryAfterSeconds = "30";
    const bool account = bound == db::QueueBound::account;
    const std::string urls = std::to_string(task_count) + (task_count == 1 ? " URL" : " URLs");
    const std::string holds = account ? "an account may have at most " : "it holds at most ";
    std::string detail = std::string(account ? "Your account's" : "The service's") +
                         " queue has no room for this request's " + urls + ": " + holds +
                         std::to_string(limit) + " unfinished tasks. Nothing was queued; ";
    detail += static_cast<std::int64_t>(task_count) > limit ? "send the URLs in smaller requests."
                                                            : "retry after the Retry-After delay.";
    HttpAnswer a = error_answer(account ? 429 : 503, "queue_full", detail);
    a.headers.clear();  // instead of error_answer's 503 default
    a.headers.emplace_back("Retry-After", kRetryAfterSeconds);
    return a;
}

json status_object(const db::JobView& job, const storage::Presigner& presigner) {
    int completed = 0;
    int failed = 0;
    json tasks = json::array();
    const std::optional<db::TaskView> discovery_failure = discovery_failure_task(job);
    const auto report = [&](const db::TaskView& t) {
        json item{{"url", t.url}, {"status", t.status}};
        if (t.status == "success") {
            ++completed;
            const std::string key = t.object_key.value_or("");
            item["presigned_url"] = presigner.url(job.base_url, key);
            item["object_key"] = key;
            item["file_size"] = t.file_size.value_or(0);
            item["conversion_time"] = t.conversion_time.value_or(0.0);
        } else if (t.status == "failed") {
            ++failed;
            item["error"] = t.error.value_or("The conversion failed.");
        }
        tasks.push_back(std::move(item));
    };
    for (const auto& t : job.tasks) report(t);
    if (discovery_failure) report(*discovery_failure);
    json obj{{"job_id", job.id},
             {"status", job.status},
             {"total_tasks", tasks.size()},
             {"completed_tasks", completed},
             {"failed_tasks", failed},
             {"tasks", std::move(tasks)},
             {"created_at", job.created_at},
             {"completed_at", job.completed_at ? json(*job.completed_at) : json(nullptr)},
             {"notifications", json::array()}};
    // A website capture: what discovery found, or why it found nothing.
    if (!job.discovery_state.empty()) obj["discovery"] = discovery_json(job);
    return obj;
}

HttpAnswer status_answer(const db::JobView& job, const storage::Presigner& presigner) {
    json body = status_object(job, presigner);
    body["notifications"] = job.notifications;
    return json_answer(200, body);
}

HttpAnswer sync_answer(const db::JobView& job, const storage::Presigner& presigner,
                       bool direct_download) {
    if (job.tasks.empty()) return internal_error_answer();
    const db::TaskView& t = job.tasks.front();
    if (t.status != "success") {
        const std::string code = t.error_code.value_or("render_failed");
        const int http = code == "timeout" ? 504 : 422;
        return error_answer(http, code, t.error.value_or("The conversion failed."), std::nullopt,
                            job.id);
    }
    const std::string key = t.object_key.value_or("");
    const std::string filename = t.filename.value_or("");
    const std::int64_t size = t.file_size.value_or(0);
    const double seconds = t.conversion_time.value_or(0.0);
    const auto result = [&](const std::string& download_url) {
        return json{{"success", true},
                    {"job_id", job.id},
                    {"status", "completed"},
                    {"url", t.url},
                    {"presigned_url", download_url},
                    {"object_key", key},
                    {"filename", filename},
                    {"file_size", size},
                    {"conversion_time", seconds},
                    {"conversion_time_seconds", seconds}};
    };
    if (direct_download) {
        const std::vector<std::pair<std::string, std::string>> about = {
            {"X-Job-Id", job.id},
            {"X-Object-Key", key},
            {"X-File-Size", std::to_string(size)},
            {"X-Conversion-Time", seconds_text(seconds)}};
        // S3 backend: nginx cannot serve the file, the object store can:
        // the client is sent there with a link that saves it as `filename`
        // (the JSON result is the body, for clients that do not follow).
        if (const auto url = presigner.attachment_url(key, filename)) {
            HttpAnswer a = json_answer(302, result(*url));
            a.headers = about;
            a.headers.emplace_back("Location", *url);
            return a;
        }
        HttpAnswer a;
        a.status = 200;
        a.content_type = storage::content_type_for(storage::format_for(job.endpoint, job.options));
        // filename comes from the sanitised key charset: safe inside quotes.
        a.headers = {{"Content-Disposition", "attachment; filename=\"" + filename + "\""}};
        a.headers.insert(a.headers.end(), about.begin(), about.end());
        a.internal_redirect = key;
        return a;
    }
    return json_answer(200, result(presigner.url(job.base_url, key)));
}

HttpAnswer health_answer(bool database_ok) {
    if (database_ok) {
        return json_answer(
            200, json{{"status", "ok"}, {"nginx", "ok"}, {"worker", "ok"}, {"database", "ok"}});
    }
    HttpAnswer a = json_answer(
        503, json{{"status", "degraded"}, {"nginx", "ok"}, {"worker", "ok"}, {"database", "down"}});
    a.headers.emplace_back("Retry-After", "5");
    return a;
}

}  // namespace enconvert::api

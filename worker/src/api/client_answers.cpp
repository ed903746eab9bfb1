#include "api/client_answers.h"

#include "api/website_answers.h"
#include "storage/object_key.h"

namespace enconvert::api {

using nlohmann::json;

namespace {

// The vendor's clients show no plan; a self-hosted service has one.
constexpr const char* kPlan = "self-hosted";

// The vendor's item states (its activity log's words).
const char* item_status(const std::string& task_status) {
    if (task_status == "success") return "Success";
    if (task_status == "failed") return "Failed";
    return "In Progress";
}

}  // namespace

bool wants_zip(const json& options) {
    const auto it = options.find("output_format");
    if (it == options.end()) return false;
    return (it->is_boolean() && it->get<bool>()) || (it->is_string() && *it == "zip");
}

bool answers_as_client_job(const db::JobView& job) {
    return job.client_id.has_value() && job.is_sync && !job.is_batch;
}

HttpAnswer client_status_answer(const db::JobView& job, const storage::Presigner& presigner) {
    json body{{"job_id", job.id}};
    // Not a member of the clients' vocabulary, but the notifications'
    // outcomes are shown by the status route for every job that asked for
    // one (the clients ignore what they do not read).
    if (!job.notifications.empty()) body["notifications"] = job.notifications;
    const db::TaskView* t = job.tasks.empty() ? nullptr : &job.tasks.front();
    if (job.status == "processing" || t == nullptr) {
        body["status"] = "processing";
        return json_answer(200, body);
    }
    if (t->status == "success") {
        const std::string key = t->object_key.value_or("");
        body["status"] = "success";
        body["url"] = t->url;
        body["presigned_url"] = presigner.url(job.base_url, key);
        body["object_key"] = key;
        body["filename"] = t->filename.value_or("");
        body["file_size"] = t->file_size.value_or(0);
        body["conversion_time_seconds"] = t->conversion_time.value_or(0.0);
        return json_answer(200, body);
    }
    body["status"] = "failed";
    body["url"] = t->url;
    body["error"] = t->error.value_or("The conversion failed.");
    body["error_code"] = t->error_code.value_or("render_failed");
    return json_answer(200, body);
}

HttpAnswer batch_answer(const db::JobView& job, const storage::Presigner& presigner) {
    int completed = 0;
    int failed = 0;
    int in_progress = 0;
    json items = json::array();
    for (const auto& t : job.tasks) {
        json item{{"source_url", t.url},     {"status", item_status(t.status)},
                  {"download_url", nullptr}, {"output_file_size", nullptr},
                  {"duration", nullptr},     {"error", nullptr},
                  {"object_key", nullptr}};
        if (t.status == "success") {
            ++completed;
            const std::string key = t.object_key.value_or("");
            item["download_url"] = presigner.url(job.base_url, key);
            item["output_file_size"] = t.file_size.value_or(0);
            item["duration"] = seconds_text(t.conversion_time.value_or(0.0));
            item["object_key"] = key;
        } else if (t.status == "failed") {
            ++failed;
            item["error"] = t.error.value_or("The conversion failed.");
        } else {
            ++in_progress;
        }
        items.push_back(std::move(item));
    }
    const auto total = static_cast<int>(job.tasks.size());
    // The ZIP (docs/api.md "Batch ZIP"): linked once stored, with a fresh
    // link on every answer. output_mode stays "zip" only while the ZIP may
    // still come or once it is there: the CLI downloads zip_download_url
    // whenever output_mode is "zip", so a batch that ends without a ZIP (no
    // file succeeded, or the ZIP failed) answers "individual", and its
    // files are fetched one by one as the vendor's own batches without a
    // ZIP are.
    const bool zip_stored = job.zip_state == "done" && job.zip_object_key.has_value();
    // As the archiver (db::kWantsArchiveSql): a ZIP is made for batches only.
    const bool zip_mode =
        job.is_batch && wants_zip(job.options) && (job.status == "processing" || zip_stored);
    // A job with no task: a website capture whose discovery is pending
    // (processing) or found nothing (failed).
    const char* status = in_progress > 0 || job.status == "processing" ? "processing"
                         : total == 0                                  ? "failed"
                         : completed == total                          ? "completed"
                         : failed == total                             ? "failed"
                                                                       : "partial";
    json body{{"batch_id", job.id},
              {"job_id", job.id},
              {"status", status},
              {"total", total},
              {"completed", completed},
              {"failed", failed},
              {"in_progress", in_progress},
              {"output_mode", zip_mode ? "zip" : "individual"},
              {"zip_download_url",
               zip_stored ? json(presigner.url(job.base_url, *job.zip_object_key)) : json(nullptr)},
              {"zip_error", job.zip_error ? json(*job.zip_error) : json(nullptr)},
              {"items", std::move(items)}};
    if (!job.discovery_state.empty()) {
        // A website capture: progress while its pages are still being
        // found, and what was found (the 202's fields).
        body["discovery"] = discovery_json(job);
        body["total_discovered"] = body["discovery"]["total_discovered"];
        body["discovery_method"] = body["discovery"]["method"];
    }
    return json_answer(200, body);
}

HttpAnswer whoami_answer(const db::ApiKeyIdentity& identity) {
    return json_answer(200, json{{"project_id", identity.account_public_id}, {"plan_slug", kPlan}});
}

HttpAnswer verify_answer(const db::ApiKeyIdentity& identity) {
    return json_answer(200, json{{"authenticated", true},
                                 {"project_id", identity.account_public_id},
                                 {"tier", kPlan},
                                 {"key_type", "private"},
                                 {"allowed_domains", nullptr},
                                 {"allowed_endpoints", nullptr}});
}

HttpAnswer download_answer(const db::ApiKeyIdentity& identity, const std::string& object_key,
                           const storage::Presigner& presigner) {
    const std::string prefix = "live/files/" + identity.account_public_id + "/";
    if (!storage::is_valid_object_key(object_key) || object_key.size() <= prefix.size() ||
        object_key.compare(0, prefix.size(), prefix) != 0) {
        // Another account's file answers like a missing one.
        return error_answer(404, "not_found", "No such file for your account.");
    }
    const std::string filename = object_key.substr(object_key.rfind('/') + 1);
    // S3 backend: the store serves it, saved as `filename`.
    if (const auto url = presigner.attachment_url(object_key, filename)) {
        HttpAnswer a = json_answer(302, json{{"success", true}, {"download_url", *url}});
        a.headers = {{"Location", *url}, {"X-Filename", filename}};
        return a;
    }
    HttpAnswer a;
    a.status = 200;
    // filename is from the object-key charset: safe inside quotes.
    a.headers = {{"Content-Disposition", "attachment; filename=\"" + filename + "\""},
                 {"X-Filename", filename}};
    a.internal_redirect = object_key;
    return a;
}

}  // namespace enconvert::api

// HTTP answers the worker composes (status, headers, JSON body); the module
// relays them as is. Shapes: docs/api.md.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/status_cache_hint.h"
#include "db/job_types.h"
#include "storage/presign.h"

namespace enconvert::api {

struct HttpAnswer {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // Set instead of body: the module serves this stored object itself.
    std::optional<std::string> internal_redirect;
    // A status answer nginx may keep and give itself (status_cache_hint.h).
    std::optional<StatusCacheHint> cache;
};

// "You will be notified at <email> when complete." and/or "Results will be
// sent to your callback URL." (the reference page's words); "" with neither.
std::string notification_sentences(const std::optional<std::string>& email,
                                   const std::optional<std::string>& callback_url);
// The 202 message, worded as in the reference page.
std::string accepted_message(const std::string& job_id, const std::optional<std::string>& email,
                             const std::optional<std::string>& callback_url);
// Also batch_id (the same id: the vendor's clients poll the batch route with
// it), url_count, the number of URLs of the job, and output_format, "zip"
// when the results will also come as one ZIP, else "individual", as the
// vendor's gateway answers.
HttpAnswer accepted_answer(const std::string& job_id, const std::string& status,
                           const std::optional<std::string>& email,
                           const std::optional<std::string>& callback_url,
                           std::size_t url_count = 1, bool zip = false);

// {"success":false,"error":code,"detail":detail[,"field"][,"job_id"]}
// A JSON body with `status`; the building block of every answer here and
// in client_answers.h.
HttpAnswer json_answer(int status, const nlohmann::json& body);

// Seconds with two decimals, as the API writes durations.
std::string seconds_text(double seconds);

HttpAnswer error_answer(int status, const std::string& code, const std::string& detail,
                        const std::optional<std::string>& field = std::nullopt,
                        const std::optional<std::string>& job_id = std::nullopt);
HttpAnswer invalid_api_key_answer();
HttpAnswer job_not_found_answer();
// 410 expired: the owner's job outlived the retention period.
HttpAnswer job_expired_answer(const std::string& job_id);
HttpAnswer database_unavailable_answer();  // 503 + Retry-After: 5
// 503 for a job whose COMMIT was cut off by a lost database connection: it
// may exist. `idempotency_key`: the request carried one, so a retry with it
// is safe.
HttpAnswer commit_in_doubt_answer(bool idempotency_key);
// 503 from a worker that has stopped taking requests (its intake loops are
// ending): nothing was done, a retry is safe. Retry-After: 1.
HttpAnswer worker_stopping_answer();
// 503 for a sync request whose job finished but whose result could not be
// read: names the job so the client polls its status instead of resubmitting.
HttpAnswer finished_job_unreadable_answer(const std::string& job_id);
HttpAnswer internal_error_answer();
// 409: the Idempotency-Key was used before with a different request body.
HttpAnswer idempotency_conflict_answer();
HttpAnswer bad_message_answer(const std::string& detail);
// The queue has no room for a job of `task_count` tasks: 429 queue_full
// (the account's bound) or 503 queue_full (the bound of all accounts), both
// with Retry-After. `limit` is the bound that was reached.
HttpAnswer queue_full_answer(db::QueueBound bound, std::int64_t limit, std::size_t task_count);

// The status object (= callback payload core + created_at, completed_at,
// notifications), with fresh presigned URLs.
nlohmann::json status_object(const db::JobView& job, const storage::Presigner& presigner);
// With the job's delivery records (JobView::notifications).
HttpAnswer status_answer(const db::JobView& job, const storage::Presigner& presigner);

// Final answer of a terminal sync job: 200 result JSON (or the stored file
// via internal redirect when direct_download), else 422 / 504 error shape.
HttpAnswer sync_answer(const db::JobView& job, const storage::Presigner& presigner,
                       bool direct_download);

HttpAnswer health_answer(bool database_ok);

}  // namespace enconvert::api

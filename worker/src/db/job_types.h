// Plain data read from and written to the jobs/tasks tables.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace enconvert::db {

// website-to-pdf and website-to-screenshot: a website capture,
// whose one request URL is where discovery starts.
inline bool is_website_endpoint(std::string_view endpoint) {
    return endpoint == "website-to-pdf" || endpoint == "website-to-screenshot";
}

struct NewJob {
    std::string id;
    std::int64_t account_id = 0;
    std::int64_t api_key_id = 0;
    std::string endpoint;
    bool is_batch = false;
    bool is_sync = false;
    nlohmann::json options = nlohmann::json::object();
    std::optional<std::string> notification_email;
    std::optional<std::string> callback_url;
    std::string base_url;
    std::optional<std::string> idempotency_key;
    // intake::request_fingerprint of the request; set with idempotency_key.
    std::optional<std::string> request_fingerprint;
    // The client's own id for the job (request field job_id), if it sent one.
    std::optional<std::string> client_id;
    std::vector<std::string> urls;
    // A website capture: created with no task, waiting for its
    // discovery (db/site_discoveries.h); `urls` must be empty.
    bool discover = false;
    // A website capture's page limit (max_pages): counted against the
    // queue bounds like that many tasks from the job's creation until its
    // discovery ends, when the pages found take its place (migration 013).
    // Without it, captures accepted with no task could add any number of
    // pages past the bounds.
    std::int64_t discovery_reserved = 0;
};

// Bounds on the queue's unfinished (pending or processing) tasks, checked
// before a job is inserted; 0: no bound.
struct QueueLimits {
    std::int64_t max_tasks = 0;          // all accounts together
    std::int64_t account_max_tasks = 0;  // one account
};

// The bound a refused job would have crossed.
enum class QueueBound { account, global };

struct InsertResult {
    std::string job_id;
    bool created = false;  // false: an earlier job with the same idempotency key
    // Set when the queue had no room for the job: nothing was inserted
    // (job_id is empty).
    std::optional<QueueBound> queue_full;
    // With queue_full: the tasks the job counted (its URLs, or a website
    // capture's max_pages), which the refusal names.
    std::int64_t refused_tasks = 0;
    // The earlier job was created by a different request (fingerprints
    // differ): nothing was inserted and the caller answers 409.
    bool conflict = false;
    bool is_sync = false;
    std::string status;
    std::optional<std::string> notification_email;
    std::optional<std::string> callback_url;
};

struct TaskView {
    std::int64_t id = 0;
    int position = 0;
    std::string url;
    std::string status;
    std::optional<std::string> object_key;
    std::optional<std::string> filename;
    std::optional<std::int64_t> file_size;
    std::optional<double> conversion_time;
    std::optional<std::string> error_code;
    std::optional<std::string> error;
};

struct JobView {
    std::string id;
    std::int64_t account_id = 0;
    std::string endpoint;
    std::string status;
    bool is_sync = false;
    bool is_batch = false;
    std::optional<std::string> client_id;  // the request's job_id
    std::string base_url;
    nlohmann::json options = nlohmann::json::object();
    std::string created_at;                      // RFC 3339 UTC
    std::optional<std::string> completed_at;     // RFC 3339 UTC
    std::optional<std::int64_t> completed_unix;  // the same, in Unix seconds
    std::vector<TaskView> tasks;                 // by position
    // The status object's "notifications" list, webhook first:
    // [{"type","target","state","response_code","error","attempts"}], state
    // one of pending/delivered/failed (a row being sent is still
    // "pending"). A job that asked for a notification but is not terminal
    // yet lists it as pending with 0 attempts. Empty without notifications.
    nlohmann::json notifications = nlohmann::json::array();
    // Past the retention period: files, tasks and notifications deleted
    // (db/retention.h); only the row is left.
    bool expired = false;
    // The batch's ZIP (output_format, migration 009): zip_state is "" (none
    // asked or none to make), "pending", "done" (zip_object_key and
    // zip_file_size set) or "failed" (zip_error set).
    std::string zip_state;
    std::optional<std::string> zip_object_key;
    std::optional<std::int64_t> zip_file_size;
    std::optional<std::string> zip_error;
    // A website capture's discovery (migration 010): discovery_state is ""
    // (not a website capture), "pending", "done" or "failed".
    std::string discovery_state;
    std::optional<std::string> discovery_method;  // "sitemap" or "full_crawl"
    std::optional<std::int64_t> discovery_total;
    bool discovery_truncated = false;
    std::optional<std::string> discovery_error_code;
    std::optional<std::string> discovery_error;
};

struct ClaimedTask {
    std::int64_t task_id = 0;
    std::string job_id;
    std::string url;
    std::string endpoint;
    nlohmann::json options = nlohmann::json::object();
    std::string account_public_id;
    int attempts = 0;  // including this claim
    // This claim's number among all of the task's claims (migration 016;
    // never given back, unlike attempts) and its job's creation time,
    // yyyymmddThhmmssZ: together they make the claim's object key
    // (storage::result_object_key), one no other claim has.
    int claim = 1;
    std::string key_stamp;
    // Seconds since the task first met a full storage (0: it has not, or
    // another outcome came between): bounds how long it waits for room.
    double storage_full_seconds = 0;
    // An earlier attempt's renderer died under it: run it with no other
    // task on the same renderer (migration 004).
    bool run_alone = false;
};

struct TaskOutcome {
    std::int64_t task_id = 0;
    // The claim (ClaimedTask::claim) the outcome is of: recorded only while
    // that claim holds the task. A worker that claimed a task again while
    // an older claim's result waited to be recorded (its lease ran out
    // meanwhile) had that result recorded against the new claim. 0: any
    // claim of the lease's owner.
    int claim = 0;
    std::string job_id;  // for the log only: finish_task goes by task_id
    bool ok = false;
    // Not an outcome yet: the task goes back to the queue (status pending)
    // with error_code/error as the last attempt's, to be claimed again no
    // sooner than retry_after from now. run_alone: on a renderer of its own.
    // count_attempt false: this attempt was not the page's fault and does
    // not use up one of max_attempts (a full storage).
    bool retry = false;
    bool run_alone = false;
    bool count_attempt = true;
    int retry_after_seconds = 0;
    std::string object_key;
    std::string filename;
    std::int64_t file_size = 0;
    double conversion_time = 0;
    std::string error_code;
    std::string error;
};

struct FinishResult {
    bool applied = false;  // false: our lease was lost, nothing changed
    // Recorded by an earlier call whose COMMIT was in doubt (the connection
    // was lost during it): nothing changed now, the job was settled then.
    bool recorded_before = false;
    // This outcome made the job terminal (with recorded_before: the earlier
    // commit of it did; its notifications were queued then).
    bool job_terminal = false;
    std::string job_id;
    std::string job_status;  // when job_terminal: "completed" or "failed"
    std::string endpoint;    // when job_terminal: the job's endpoint
    // Every task is done but the job waits for its ZIP (db/batch_archives.h):
    // not terminal yet, no notification queued.
    bool archive_pending = false;
};

}  // namespace enconvert::db

#include "scheduler/task_outcome.h"

#include <cmath>

#include "log/log.h"
#include "storage/object_key.h"

namespace enconvert::scheduler {

namespace {

constexpr log::Logger kLog{"scheduler"};

void log_store_failure(const db::ClaimedTask& task, const char* error) {
    kLog.error("storing the result failed",
               {{"job_id", task.job_id}, {"task_id", task.task_id}, {"error", error}});
}

db::TaskOutcome failed(const db::ClaimedTask& task, std::string code, std::string error) {
    db::TaskOutcome o;
    o.task_id = task.task_id;
    o.job_id = task.job_id;
    o.claim = task.claim;
    o.error_code = std::move(code);
    o.error = std::move(error);
    return o;
}

db::TaskOutcome storage_full(const db::ClaimedTask& task, const RetryPolicy& policy) {
    if (policy.storage_full_give_up_seconds > 0 &&
        task.storage_full_seconds >= policy.storage_full_give_up_seconds) {
        kLog.warning("storage still full: task given up",
                     {{"job_id", task.job_id},
                      {"task_id", task.task_id},
                      {"waited_seconds", static_cast<std::int64_t>(task.storage_full_seconds)}});
        return failed(task, "storage_full",
                      "The storage had no room for the rendered file, and the page waited for "
                      "room as long as it may (" +
                          std::to_string(policy.storage_full_give_up_seconds) + " s).");
    }
    db::TaskOutcome o = failed(task, "storage_full",
                               "The storage is full; the page will be "
                               "rendered again when there is room.");
    o.retry = true;
    o.count_attempt = false;
    o.retry_after_seconds = policy.storage_full_retry_seconds;
    return o;
}

// The renderer child died under the task, or the page's web process
// crashed: not necessarily this page's doing, so it runs again while
// attempts remain; alone, when the whole child died, so that it cannot be
// hit by a neighbour again and a page that kills every renderer fails by
// itself.
db::TaskOutcome crashed(const db::ClaimedTask& task, const render::RenderResult& result,
                        const RetryPolicy& policy) {
    if (task.attempts < policy.max_attempts) {
        db::TaskOutcome o = failed(task, result.error_code, result.error);
        o.retry = true;
        o.run_alone = result.renderer_lost;
        kLog.warning("render crashed; queued again", {{"job_id", task.job_id},
                                                      {"task_id", task.task_id},
                                                      {"error_code", result.error_code},
                                                      {"attempt", task.attempts},
                                                      {"alone", o.run_alone}});
        return o;
    }
    const std::string tries = std::to_string(task.attempts);
    if (result.renderer_lost)
        return failed(
            task, "renderer_crashed",
            "Failed to render page: it crashed the renderer on each of " + tries + " attempts.");
    return failed(task, result.error_code, result.error + " (on each of " + tries + " attempts)");
}

}  // namespace

double conversion_seconds(double render_ms) {
    if (!(render_ms > 0)) return 0.0;
    return std::round(render_ms / 10.0) / 100.0;
}

db::TaskOutcome make_outcome(const db::ClaimedTask& task, const render::RenderResult& result,
                             storage::Storage& storage, const std::filesystem::path& temp_file,
                             const RetryPolicy& policy) {
    if (result.ok) {
        const std::string format = storage::format_for(task.endpoint, task.options);
        const std::string ext = storage::extension_for(format);
        db::TaskOutcome o;
        o.task_id = task.task_id;
        o.job_id = task.job_id;
        o.claim = task.claim;
        o.object_key =
            storage::result_object_key(task.account_public_id, task.endpoint, task.options,
                                       task.url, task.key_stamp, task.task_id, task.claim);
        o.filename = storage::output_name(task.options, task.url, ext) + "." + ext;
        try {
            o.file_size = static_cast<std::int64_t>(
                storage.store(temp_file, o.object_key, format, result.size));
            o.conversion_time = conversion_seconds(result.render_ms);
            o.ok = true;
            return o;
        } catch (const storage::StorageError& e) {
            log_store_failure(task, e.what());
            // A store may have kept it all the same (an object store whose
            // answer was lost): no row will name the key, so retention
            // would never remove it. The key is this attempt's own.
            storage.remove(o.object_key);
            if (e.full()) return storage_full(task, policy);
            return failed(task, "storage_error",
                          std::string("The rendered file could not be stored: ") + e.what() + ".");
        } catch (const std::exception& e) {
            log_store_failure(task, e.what());
            storage.remove(o.object_key);
            std::error_code ec;
            std::filesystem::remove(temp_file, ec);
            return failed(task, "storage_error", "The rendered file could not be stored.");
        }
    }
    std::error_code ec;
    std::filesystem::remove(temp_file, ec);
    if (result.renderer_stopped) {
        // Stopped from outside (a service manager signalling every process
        // of the service): runs again, no attempt used, not alone.
        db::TaskOutcome o = failed(task, result.error_code, result.error);
        o.retry = true;
        o.count_attempt = false;
        return o;
    }
    // renderer_crashed without a lost renderer: the child answered it for a
    // fault of one of its views' callbacks on this page (callback_guard.h).
    if (result.renderer_lost || result.error_code == "web_process_crashed" ||
        result.error_code == "renderer_crashed")
        return crashed(task, result, policy);
    if (result.error_code == "storage_full") return storage_full(task, policy);
    return failed(task, result.error_code.empty() ? "render_failed" : result.error_code,
                  result.error.empty() ? "The page could not be rendered." : result.error);
}

}  // namespace enconvert::scheduler

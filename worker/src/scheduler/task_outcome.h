// Turns a renderer's result for a claimed task into the outcome recorded in
// the database, storing the rendered file on success.
#pragma once

#include <filesystem>

#include "db/job_types.h"
#include "render/renderer_pool.h"
#include "storage/storage.h"

namespace enconvert::scheduler {

// When a failed attempt goes back to the queue instead of failing the task.
struct RetryPolicy {
    // Attempts a task may use up; the last one's failure is final.
    int max_attempts = 3;
    // A result that could not be stored for lack of space is tried again
    // after this long, without using up an attempt.
    int storage_full_retry_seconds = 30;
    // ... until the task has waited this long since it first met the full
    // storage (0: no bound): then it fails with storage_full, instead of a
    // file larger than the room ever made being rendered again forever.
    int storage_full_give_up_seconds = 24 * 3600;
};

// render_ms → seconds rounded to 2 decimals.
double conversion_seconds(double render_ms);

// On success moves temp_file into storage under its object key; on failure
// (or if storing fails) removes temp_file and reports the error. Retries
// (TaskOutcome::retry): the renderer died under the task (run it alone next
// time) or the web process crashed, while attempts remain; the storage is
// full (storage_full, attempt not counted). A file that cannot be stored
// otherwise fails the task with storage_error. Never throws.
db::TaskOutcome make_outcome(const db::ClaimedTask& task, const render::RenderResult& result,
                             storage::Storage& storage, const std::filesystem::path& temp_file,
                             const RetryPolicy& policy = {});

}  // namespace enconvert::scheduler

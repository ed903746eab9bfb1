// SQL for jobs and tasks: the durable queue. Every function runs its own
// transaction on the caller's connection (one connection per thread).
#pragma once

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "db/job_inserts.h"  // insert_job, insert_jobs
#include "db/job_types.h"
#include "db/queue_admission.h"
#include "db/task_claims.h"  // claim_tasks, claim_batch

namespace enconvert::db {

inline constexpr const char* kTaskReadyChannel = "enconvert_task_ready";
inline constexpr const char* kJobDoneChannel = "enconvert_job_done";

// The job with its tasks, only if it belongs to account_id.
std::optional<JobView> load_job(pqxx::connection& conn, const std::string& job_id,
                                std::int64_t account_id);

// Several jobs read in one statement, each only if it belongs to its
// account_id; the answers in the keys' order (nullopt: no such job of that
// account).
struct JobKey {
    std::string job_id;
    std::int64_t account_id = 0;
};
std::vector<std::optional<JobView>> load_jobs(pqxx::connection& conn,
                                              const std::vector<JobKey>& keys);

// The id of account_id's newest job started with this client id (the
// request field job_id), if any.
std::optional<std::string> find_client_job(pqxx::connection& conn, const std::string& client_id,
                                           std::int64_t account_id);

// Records a task's outcome if `owner` still holds its lease; in the same
// transaction makes the job terminal when no task is left runnable and
// NOTIFYs enconvert_job_done with the job id. An outcome with `retry` set
// instead puts the task back in the queue (pending, not before
// retry_after_seconds, run_alone if asked) and NOTIFYs enconvert_task_ready.
FinishResult finish_task(pqxx::connection& conn, const std::string& owner,
                         const TaskOutcome& outcome);

// Extends to now + lease_seconds the lease of each of `task_ids` that
// `owner` still holds and returns those ids; a missing id's lease was lost
// (expired and taken by another worker, or the task is no longer running).
std::vector<std::int64_t> renew_leases(pqxx::connection& conn, const std::string& owner,
                                       int lease_seconds,
                                       const std::vector<std::int64_t>& task_ids);

// Gives back every task `owner` is processing but those in `except` (a
// clean shutdown: none; a reconnect: those it still works on), so another
// worker can take them without waiting for the lease to expire. The attempt
// the claim counted is given back too: the page was not the cause.
int release_tasks(pqxx::connection& conn, const std::string& owner,
                  const std::vector<std::int64_t>& except = {});

// True if the database answers `SELECT 1` within `timeout` (server-side
// statement_timeout); a slower answer throws pqxx::sql_error (57014), so a
// hung database cannot stall the caller's loop.
bool ping(pqxx::connection& conn,
          std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// Tasks of every worker not yet finished (for the metrics), bounded by
// `timeout` like ping().
struct TaskCounts {
    std::int64_t pending = 0;
    std::int64_t processing = 0;
};
TaskCounts count_unfinished_tasks(
    pqxx::connection& conn, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace enconvert::db

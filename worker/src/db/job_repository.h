// SQL for jobs and tasks: the durable queue. Every function runs its own
// transaction on the caller's connection (one connection per thread).
#pragma once

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "db/job_types.h"
#include "db/queue_admission.h"
#include "db/task_claims.h"  // claim_tasks, claim_batch

namespace enconvert::db {

inline constexpr const char* kTaskReadyChannel = "enconvert_task_ready";
inline constexpr const char* kJobDoneChannel = "enconvert_job_done";

// Inserts the job and one task per URL in one transaction and NOTIFYs
// enconvert_task_ready in it. With an idempotency key already used by the
// same account, inserts nothing and returns the earlier job (created=false;
// conflict=true if its request_fingerprint differs). A concurrent insert with
// the same key waits for the other transaction instead of failing, so two
// racing retries never create two jobs.
// With QueueLimits, a job whose tasks would cross a bound is refused whole:
// nothing is inserted and queue_full names the bound (db/queue_admission.h);
// a replay of an earlier job is never refused. The _in variant runs inside
// the caller's transaction (tests use it to hold the admission lock open).
InsertResult insert_job(pqxx::connection& conn, const NewJob& job, const QueueLimits& limits = {});
InsertResult insert_job_in(pqxx::transaction_base& tx, const NewJob& job,
                           const QueueLimits& limits = {}, QueueTally* tally = nullptr);

// Group commit: every job inserted as insert_job() would, all in one
// transaction with one commit (one WAL flush). Results in the jobs' order.
// nullopt when a statement failed: nothing is inserted then, and the
// caller inserts each job alone so that one bad job does not refuse the
// others. A failed commit throws (nothing is inserted either).
std::optional<std::vector<InsertResult>> insert_jobs(pqxx::connection& conn,
                                                     const std::vector<NewJob>& jobs,
                                                     const QueueLimits& limits = {});

// The job with its tasks, only if it belongs to account_id.
std::optional<JobView> load_job(pqxx::connection& conn, const std::string& job_id,
                                std::int64_t account_id);

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

// Gives back every task `owner` is processing (clean shutdown), so another
// worker can take them without waiting for the lease to expire.
int release_tasks(pqxx::connection& conn, const std::string& owner);

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

// Creating jobs: the job rows, their tasks and the schedulers' wake-up, each
// group of jobs in one transaction (docs/internals.md "Accepting jobs:
// group commit").
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "db/job_types.h"

namespace enconvert::db {

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
                           const QueueLimits& limits = {});

// Group commit: every job handled as insert_job() would, in the jobs' order
// (a later job with an earlier one's idempotency key replays it), all in one
// transaction with one commit (one WAL flush). The jobs and their tasks go
// in with one statement, so the per-statement work (parsing, the triggers
// keeping queue_counts) is paid once per group. Results in the jobs' order.
// nullopt when a statement failed: nothing is inserted then, and the
// caller inserts each job alone so that one bad job does not refuse the
// others. A statement refused for now (means_unavailable: a timeout, a
// full disk) throws instead, as does a failed commit (nothing is inserted
// either).
std::optional<std::vector<InsertResult>> insert_jobs(pqxx::connection& conn,
                                                     const std::vector<NewJob>& jobs,
                                                     const QueueLimits& limits = {});

}  // namespace enconvert::db

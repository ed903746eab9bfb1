// Back-pressure: whether the queue has room for a job's tasks, checked in
// the transaction that inserts the job (docs/reliability.md "Fairness and
// back-pressure").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "db/job_types.h"

namespace enconvert::db {

// What one transaction knows of the queue: each account's unfinished tasks
// and everyone's, as read once plus the tasks it admitted since. A group of
// jobs (db::insert_jobs) reads each account's number once instead of once
// per job.
struct QueueTally {
    std::map<std::int64_t, std::int64_t> accounts;
    std::optional<std::int64_t> global;
};

// Reads the queue for the jobs of `accounts` (sorted, without repeats).
// With the account bound set it first takes, in one statement and in
// account order (two workers' groups then never wait for each other in a
// cycle), each account's transaction-scoped admission lock, so that the
// submissions of one account are counted and inserted one after another;
// the numbers are read by the next statement, whose snapshot sees every job
// committed by a lock's previous holder. The numbers are the queue_counts
// rows that triggers on tasks keep (migration 011): the same cost at any
// queue length. The global number takes no lock: intakes of different
// accounts inserting at the same moment can pass it together, by at most
// one group each. Without bounds, reads nothing.
QueueTally read_queue(pqxx::transaction_base& tx, const std::vector<std::int64_t>& accounts,
                      const QueueLimits& limits);

// The bound `task_count` more tasks of `account_id` would cross, if any:
// the account's first, then the global one. If none, the tasks are counted
// in the tally (the next job of the group sees them).
std::optional<QueueBound> admit(QueueTally& tally, std::int64_t account_id, std::int64_t task_count,
                                const QueueLimits& limits);

}  // namespace enconvert::db

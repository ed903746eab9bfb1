// Back-pressure: whether the queue has room for a job's tasks, checked in
// the transaction that inserts the job (docs/reliability.md "Fairness and
// back-pressure").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>

#include "db/job_types.h"

namespace enconvert::db {

// What one transaction knows of the queue: each account's unfinished tasks
// and everyone's, as first read plus the tasks it admitted since. A group
// of jobs (db::insert_jobs) reads each account's number once instead of
// once per job.
struct QueueTally {
    std::map<std::int64_t, std::int64_t> accounts;
    std::optional<std::int64_t> global;
};

// Takes the account's transaction-scoped admission lock when the account
// bound is set, so the submissions of one account are counted and inserted
// one after another. Call it in a statement before queue_room's: that one's
// snapshot then sees every job committed by the lock's previous holder.
// With a tally, an account whose lock this transaction holds is not locked
// again.
void lock_account_queue(pqxx::transaction_base& tx, std::int64_t account_id,
                        const QueueLimits& limits, const QueueTally* tally = nullptr);

// The bound `task_count` more tasks of `account_id` would cross, if any:
// the account's first, then the global one. The numbers are the
// queue_counts rows that triggers on tasks keep (migration 011), so a check
// costs the same at any queue length. The global count takes
// no lock: intakes of different accounts inserting at the same moment can
// pass it together, by at most one request each.
// With a tally, counts come from it when known, and admitted tasks are
// added to it (a replay found after the check is then counted too: the
// bound errs on the safe side).
std::optional<QueueBound> queue_full(pqxx::transaction_base& tx, std::int64_t account_id,
                                     std::int64_t task_count, const QueueLimits& limits,
                                     QueueTally* tally = nullptr);

}  // namespace enconvert::db

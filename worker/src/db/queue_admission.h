// Back-pressure: whether the queue has room for a job's tasks, checked in
// the transaction that inserts the job (docs/reliability.md "Fairness and
// back-pressure").
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>

#include "db/job_types.h"

namespace enconvert::db {

// Takes the account's transaction-scoped admission lock when the account
// bound is set, so the submissions of one account are counted and inserted
// one after another. Call it in a statement before queue_room's: that one's
// snapshot then sees every job committed by the lock's previous holder.
void lock_account_queue(pqxx::transaction_base& tx, std::int64_t account_id,
                        const QueueLimits& limits);

// The bound `task_count` more tasks of `account_id` would cross, if any:
// the account's first, then the global one. Counts stop at the bound, so a
// check costs at most as much as the bound is large. The global count takes
// no lock: intakes of different accounts inserting at the same moment can
// pass it together, by at most one request each.
std::optional<QueueBound> queue_full(pqxx::transaction_base& tx, std::int64_t account_id,
                                     std::int64_t task_count, const QueueLimits& limits);

}  // namespace enconvert::db

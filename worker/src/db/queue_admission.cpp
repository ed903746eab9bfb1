#include "db/queue_admission.h"

#include <algorithm>

namespace enconvert::db {

namespace {
// pg_advisory_xact_lock(int, int) key space of the per-account admission
// locks ("encq": enconvert queue); the second key is the account id folded
// into an int (two accounts sharing one only wait for each other).
constexpr int kAdmissionLockSpace = 0x656e6371;
}  // namespace

void lock_account_queue(pqxx::transaction_base& tx, std::int64_t account_id,
                        const QueueLimits& limits, const QueueTally* tally) {
    if (limits.account_max_tasks <= 0) return;
    if (tally && tally->accounts.count(account_id)) return;  // held since its count
    tx.exec_params("SELECT pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::int)",
                   kAdmissionLockSpace, account_id);
}

std::optional<QueueBound> queue_full(pqxx::transaction_base& tx, std::int64_t account_id,
                                     std::int64_t task_count, const QueueLimits& limits,
                                     QueueTally* tally) {
    if (limits.account_max_tasks <= 0 && limits.max_tasks <= 0) return std::nullopt;
    std::int64_t account = 0;
    std::int64_t global = 0;
    const bool known = tally && tally->global && tally->accounts.count(account_id);
    if (known) {
        account = tally->accounts.at(account_id);
        global = *tally->global;
    } else {
        // One row per account, kept by triggers on tasks (migration 011):
        // the same cost at any queue length. The global number adds up the
        // accounts' rows, and only when that bound is set.
        const pqxx::row counts = tx.exec_params1(
            "SELECT coalesce((SELECT unfinished FROM queue_counts WHERE account_id = $1), 0), "
            "       CASE WHEN $2 THEN (SELECT coalesce(sum(unfinished), 0) FROM queue_counts) "
            "            ELSE 0 END::bigint",
            account_id, limits.max_tasks > 0);
        account = counts[0].as<std::int64_t>();
        // A count made later in the transaction sees the group's own
        // inserts: the larger of the two is the truer one.
        global = std::max(counts[1].as<std::int64_t>(),
                          tally && tally->global ? *tally->global : std::int64_t{0});
    }
    if (limits.account_max_tasks > 0 && account + task_count > limits.account_max_tasks)
        return QueueBound::account;
    if (limits.max_tasks > 0 && global + task_count > limits.max_tasks) return QueueBound::global;
    if (tally) {
        tally->accounts[account_id] = account + task_count;
        tally->global = global + task_count;
    }
    return std::nullopt;
}

}  // namespace enconvert::db

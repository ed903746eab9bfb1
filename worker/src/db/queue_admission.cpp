#include "db/queue_admission.h"

#include <nlohmann/json.hpp>

#include "db/prepared.h"

namespace enconvert::db {

namespace {
// pg_advisory_xact_lock(int, int) key space of the per-account admission
// locks ("encq": enconvert queue); the second key is the account id folded
// into an int (two accounts sharing one only wait for each other).
constexpr int kAdmissionLockSpace = 0x656e6371;
}  // namespace

QueueTally read_queue(pqxx::transaction_base& tx, const std::vector<std::int64_t>& accounts,
                      const QueueLimits& limits) {
    QueueTally tally;
    if (limits.account_max_tasks <= 0 && limits.max_tasks <= 0) return tally;
    // The ids as a JSON array: one parameter, whatever the group's size.
    const std::string ids = nlohmann::json(accounts).dump();
    if (limits.account_max_tasks > 0) {
        // A function scan yields the array in its order: the locks are
        // taken in account order.
        exec_named(tx, "enconvert_lock_account_queues",
                   "SELECT pg_advisory_xact_lock($1, (a::bigint % 2147483647)::int) "
                   "FROM jsonb_array_elements_text($2::jsonb) AS a",
                   kAdmissionLockSpace, ids);
    }
    // Prepared: planned once per connection, not once per group.
    const pqxx::result rows = exec_named(
        tx, "enconvert_read_queue",
        "SELECT a::bigint, coalesce(q.unfinished, 0), "
        "       CASE WHEN $2 THEN (SELECT coalesce(sum(unfinished), 0) FROM queue_counts) "
        "            ELSE 0 END::bigint "
        "FROM jsonb_array_elements_text($1::jsonb) AS a "
        "LEFT JOIN queue_counts q ON q.account_id = a::bigint",
        ids, limits.max_tasks > 0);
    for (const pqxx::row r : rows) {
        tally.accounts[r[0].as<std::int64_t>()] = r[1].as<std::int64_t>();
        tally.global = r[2].as<std::int64_t>();
    }
    return tally;
}

std::optional<QueueBound> admit(QueueTally& tally, std::int64_t account_id, std::int64_t task_count,
                                const QueueLimits& limits) {
    if (limits.account_max_tasks <= 0 && limits.max_tasks <= 0) return std::nullopt;
    std::int64_t& account = tally.accounts[account_id];
    std::int64_t& global = tally.global ? *tally.global : tally.global.emplace(0);
    if (limits.account_max_tasks > 0 && account + task_count > limits.account_max_tasks)
        return QueueBound::account;
    if (limits.max_tasks > 0 && global + task_count > limits.max_tasks) return QueueBound::global;
    account += task_count;
    global += task_count;
    return std::nullopt;
}

}  // namespace enconvert::db

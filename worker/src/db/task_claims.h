// Claiming runnable tasks from the durable queue, fairly between accounts
// (docs/reliability.md "Fairness and back-pressure").
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "db/job_types.h"

namespace enconvert::db {

struct ClaimLimits {
    // Most tasks to take now (the caller's free render slots).
    int batch = 1;
    // Most tasks of one account in flight (processing with a live lease),
    // across every worker; 0: no limit.
    int account_max_in_flight = 0;
};

struct ClaimResult {
    std::vector<ClaimedTask> tasks;  // in the order they should start
    // Fewer than `batch` tasks were taken while runnable ones were passed
    // over because another transaction held them (a concurrent claim): claim
    // again soon instead of waiting for the next wake-up.
    bool contended = false;
};

// Claims up to limits.batch runnable tasks (pending and past not_before, or
// processing with an expired lease), taking turns between accounts: an
// account's next task ranks behind the tasks it already has in flight, so a
// one-page job is claimed before the rest of another account's batch; ties
// go to the older task. Rows are locked FOR UPDATE SKIP LOCKED, so concurrent
// workers get disjoint sets. With an account_max_in_flight, claims are
// serialised by a transaction-scoped advisory lock, so concurrent workers
// cannot both fill an account's last free places. The _in variant runs
// inside the caller's transaction (tests use it to hold the locks open).
ClaimResult claim_batch_in(pqxx::transaction_base& tx, const std::string& owner, int lease_seconds,
                           const ClaimLimits& limits);
ClaimResult claim_batch(pqxx::connection& conn, const std::string& owner, int lease_seconds,
                        const ClaimLimits& limits);

// claim_batch's tasks, with no per-account limit.
std::vector<ClaimedTask> claim_tasks_in(pqxx::transaction_base& tx, const std::string& owner,
                                        int lease_seconds, int limit);
std::vector<ClaimedTask> claim_tasks(pqxx::connection& conn, const std::string& owner,
                                     int lease_seconds, int limit);

}  // namespace enconvert::db

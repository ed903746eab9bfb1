// SQL of the retention janitor (janitor/janitor.h): finished jobs past the
// retention period become tombstones, tombstones are deleted later.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace enconvert::db {

// A task with claims that ended without recording an outcome (another claim
// took it over once their lease ran out, or they handed it back): such a
// claim may have stored a file that no row names (its worker died between
// storing and recording).
struct AbandonedClaims {
    std::int64_t task_id = 0;
    std::string url;
    std::vector<int> claims;
};

struct ExpiringJob {
    std::string job_id;
    std::vector<std::string> object_keys;  // stored files of its tasks
    // What the keys of its tasks' abandoned claims are made of
    // (storage::result_object_key).
    std::string account_public_id;
    std::string endpoint;
    nlohmann::json options;
    std::string key_stamp;
    std::vector<AbandonedClaims> abandoned;
};

// Locks (FOR UPDATE SKIP LOCKED, so several workers' janitors share the
// work) up to `limit` finished jobs whose completed_at is older than
// `retention` and that are not expired yet, oldest first, with the object
// keys of their stored files and their tasks' abandoned claims; not those
// in `passed_over` (jobs whose files this pass could not delete). Inside the
// caller's transaction: the caller deletes the files, then expire_jobs(),
// then commits.
std::vector<ExpiringJob> lock_expiring_jobs(pqxx::transaction_base& tx,
                                            std::chrono::seconds retention, int limit,
                                            const std::vector<std::string>& passed_over = {});

// Deletes the jobs' tasks and notifications and turns each job row into a
// tombstone: expired_at set; options, addresses, base URL, idempotency key,
// fingerprint, the ZIP's key and the ZIP's and discovery's errors cleared
// (a retried key creates a new job).
void expire_jobs(pqxx::transaction_base& tx, const std::vector<std::string>& job_ids);

// Deletes up to `limit` tombstones expired longer than `keep` ago; returns
// how many. Their ids then answer 404 like unknown ones.
int forget_expired_jobs(pqxx::connection& conn, std::chrono::seconds keep, int limit);

}  // namespace enconvert::db

// SQL for a batch's ZIP (request field output_format; migration 009): the
// job waits with zip_state 'pending' once its last task is done (see
// finish_task); an archiver claims it under a lease, builds and stores the
// ZIP, then finish_archive records the result, makes the job terminal and
// queues its notifications in one transaction.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "db/job_types.h"

namespace enconvert::db {

// NOTIFYed (payload: the job id) when a job starts waiting for its ZIP.
inline constexpr const char* kArchiveReadyChannel = "enconvert_archive_ready";

// A condition on a jobs row: a batch whose request asked for a ZIP
// (output_format true or "zip"). The module refuses the field for a single
// URL; a single-URL job that has it anyway gets no ZIP.
inline constexpr const char* kWantsArchiveSql =
    "(is_batch AND coalesce(options -> 'output_format' IN ('true'::jsonb, '\"zip\"'::jsonb), "
    "false))";

struct ArchiveJob {
    std::string job_id;
    std::string account_public_id;
    std::string endpoint;
    nlohmann::json options = nlohmann::json::object();
    // The job's creation time as yyyymmddThhmmssZ: the ZIP's key is the same
    // on every attempt, so one taken over after a crash replaces the first.
    std::string stamp;
    std::vector<TaskView> tasks;  // every task, by position
    // Claims of this ZIP so far, this one included (less those handed back
    // by release_archive): past max_attempts it fails instead of being built.
    int attempts = 0;
};

// Claims one job waiting for its ZIP (zip_state 'pending', no live lease),
// oldest first, leased to `owner` for lease_seconds; SKIP LOCKED, so
// concurrent archivers get different jobs. A lease that ran out (its
// archiver died) is taken over.
std::optional<ArchiveJob> claim_archive(pqxx::connection& conn, const std::string& owner,
                                        int lease_seconds);

// Extends `owner`'s lease on job_id; false when it was lost.
bool renew_archive_lease(pqxx::connection& conn, const std::string& owner,
                         const std::string& job_id, int lease_seconds);

// Gives `owner`'s lease on job_id up (a stopping archiver, a full
// storage): another one builds the ZIP at once instead of after the lease,
// and the claim is not counted as an attempt.
void release_archive(pqxx::connection& conn, const std::string& owner, const std::string& job_id);

struct ArchiveResult {
    // Stored: the ZIP's key and size. Otherwise `error` says why there is
    // no ZIP (a sentence for the batch answer), and `object_key`, when set,
    // is where an earlier attempt may have stored one: kept in the row (an
    // answer shows no ZIP for a failed one) so the retention deletes
    // whatever is there, should the immediate removal fail.
    std::string object_key;
    std::int64_t file_size = 0;
    std::string error;
};

// If `owner` still holds the lease: records the result (zip_state 'done'
// or 'failed'), makes the job terminal ('completed': a ZIP is only waited
// for when a task succeeded), NOTIFYs enconvert_job_done and queues the
// notifications, in one transaction. applied=false: the lease was lost and
// nothing changed.
FinishResult finish_archive(pqxx::connection& conn, const std::string& owner,
                            const std::string& job_id, const ArchiveResult& result);

// The job's zip_state: "pending", "done", "failed", "expired" (the job is a
// tombstone: its files are gone or going), or "" (no ZIP asked, or no such
// job).
std::string archive_state(pqxx::connection& conn, const std::string& job_id);

}  // namespace enconvert::db

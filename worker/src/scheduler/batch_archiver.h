// The archiver thread: makes the ZIP of a batch that asked for one
// (output_format; docs/api.md "Batch ZIP") once every task of it is done,
// stores it like any result and then finishes the job, so that the
// notifications sent afterwards can link it. Every worker runs one; a lease
// on the job (db/batch_archives.h) shares the work and hands a job whose
// archiver died to another.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "db/batch_archives.h"
#include "db/reconnecting_session.h"
#include "storage/storage.h"

namespace enconvert::scheduler {

// The name of the list of failed items inside a ZIP.
inline constexpr const char* kManifestName = "manifest.json";

// Builds the ZIP of job's successful tasks under storage.temp_dir() and
// stores it under storage::build_archive_key(). Entries are named as the
// results' downloads are (the last part of the object key; made unique in
// any case), in task order; failed tasks are left out
// and, when there are any, listed in manifest.json. `keep_going` is called
// after each entry (the caller checks for a stop and for its lease): false
// stops the build and nullopt is returned. A ZIP that cannot be made or
// stored yields a result with `error` set (and `storage_full` or
// `storage_unavailable` when another try may work); the stored results are
// never touched. Throws only what keep_going throws.
struct ArchiveBuild {
    db::ArchiveResult result;
    bool storage_full = false;         // the error was a full storage (ENOSPC, EDQUOT)
    bool storage_unavailable = false;  // the store kept failing (storage::StorageUnavailable)
    bool worth_another_try() const { return storage_full || storage_unavailable; }
};
std::optional<ArchiveBuild> build_archive(const db::ArchiveJob& job, storage::Storage& storage,
                                          const std::function<bool()>& keep_going);

struct ArchiverOptions {
    std::string database_url;
    std::string worker_id;  // lease owner
    // The lease on a job being zipped, renewed every third of it while the
    // ZIP is built and stored (ArchiveLeaseKeeper).
    int lease_seconds = 60;
    // Looks for waiting jobs this often even without a NOTIFY: a job whose
    // archiver died is found this way once its lease has run out.
    std::chrono::milliseconds poll_interval{5000};
    // After a ZIP was handed back because the storage filled up during its
    // build (or the store was unavailable), no ZIP is started for this long
    // (storage_full_retry_seconds): the room its own scratch files left is
    // not room for another try, and a store failing now fails the next too.
    std::chrono::seconds storage_full_retry{30};
    // A ZIP claimed more often than this (its builds died with their
    // worker, or hung past the lease) fails instead of being built again:
    // the job ends with its files and no ZIP (max_attempts).
    int max_attempts = 3;
};

class BatchArchiver {
  public:
    // Connects to the database, twice (throws on failure).
    BatchArchiver(ArchiverOptions options, storage::Storage& storage);

    // Claims one waiting job, builds and stores its ZIP and finishes the
    // job. False when no job was waiting, when the storage has no room
    // (storage_min_free_mb: nothing is claimed), or when `stop` came while
    // building (the job is handed back). Throws pqxx errors.
    bool archive_one(const std::atomic<bool>& stop);

    // Runs until `stop`.
    void run(const std::atomic<bool>& stop);

  private:
    // Records `result` for the claimed job and removes a ZIP nobody will
    // record; true (a job was handled).
    bool record_archive(const db::ArchiveJob& job, const db::ArchiveResult& result);

    ArchiverOptions options_;
    storage::Storage& storage_;
    db::ReconnectingSession session_;
    // The lease keeper's (ArchiveLeaseKeeper), opened with the first so that
    // nothing needs connecting once a job is claimed.
    db::ReconnectingSession lease_session_;
    bool storage_full_logged_ = false;
    // Builds that found the storage full, by job: handed back and tried
    // again once there is room, up to kFullStorageAttempts.
    std::map<std::string, int> full_storage_builds_;
    std::chrono::steady_clock::time_point no_zip_before_{};
};

}  // namespace enconvert::scheduler

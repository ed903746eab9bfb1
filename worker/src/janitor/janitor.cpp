#include "janitor/janitor.h"

#include <thread>

#include "db/retention.h"
#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "storage/object_key.h"
#include "storage/storage.h"

namespace enconvert::janitor {

namespace {
constexpr log::Logger kLog{"janitor"};
constexpr std::chrono::milliseconds kStopCheck{250};

// The files recorded for the job, and those its tasks' abandoned claims may
// have stored without recording them (a worker that died in between): a
// missing file is fine to delete.
std::vector<std::string> files_of(const db::ExpiringJob& job) {
    std::vector<std::string> keys = job.object_keys;
    for (const db::AbandonedClaims& t : job.abandoned)
        for (const int claim : t.claims)
            keys.push_back(storage::result_object_key(job.account_public_id, job.endpoint,
                                                      job.options, t.url, job.key_stamp, t.task_id,
                                                      claim));
    return keys;
}

}  // namespace

Janitor::Janitor(JanitorOptions options, RemoveFile remove_file)
    : options_(std::move(options)),
      remove_file_(std::move(remove_file)),
      session_(options_.database_url, {}, "janitor") {}

// Files first, rows last, in the transaction that locks the jobs: a crash
// in between leaves rows whose files are partly gone, and the next pass
// deletes the rest (a missing file is fine). The other order could leave
// files nobody knows about. A job a file of which cannot be deleted is kept
// for the next pass and passed over for the rest of this one; the others go
// on. It used to fail the whole batch, and as the oldest it headed every
// later batch: one undeletable file stopped retention for good. The locks
// are held no longer than the time budget (and one job's files): a batch of
// large website captures or a slow store kept them, and the transaction
// open, for minutes.
Janitor::Batch Janitor::expire_batch(std::vector<std::string>& passed_over) {
    const auto deadline = std::chrono::steady_clock::now() + options_.batch_time_budget;
    pqxx::work tx(session_->conn());
    const auto jobs =
        db::lock_expiring_jobs(tx, options_.retention, options_.batch_size, passed_over);
    Batch batch;
    batch.locked = static_cast<int>(jobs.size());
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (i > 0 && std::chrono::steady_clock::now() >= deadline) {
            batch.cut_short = true;
            break;
        }
        const auto& job = jobs[i];
        try {
            for (const auto& key : files_of(job)) remove_file_(key);
            ids.push_back(job.job_id);
        } catch (const storage::StorageUnavailable& e) {
            kLog.error("the storage is unavailable; expiring jobs resumes at the next pass",
                       {{"job_id", job.job_id}, {"error", e.what()}});
            batch.storage_unavailable = true;
            break;
        } catch (const std::exception& e) {
            kLog.error(
                "a file of an expired job could not be deleted; the job is kept for "
                "the next pass",
                {{"job_id", job.job_id}, {"error", e.what()}});
            passed_over.push_back(job.job_id);
        }
    }
    db::expire_jobs(tx, ids);
    tx.commit();
    for (const auto& id : ids) kLog.info("job expired", {{"job_id", id}});
    metrics::worker_metrics().jobs_expired(ids.size());
    batch.expired = static_cast<int>(ids.size());
    return batch;
}

int Janitor::sweep(const std::atomic<bool>* stop) {
    // A stop is honoured between batches: a backlog of expired jobs (retention
    // shortened, a janitor off for weeks) must not hold a worker's shutdown
    // for the minutes its files take to delete. The next pass goes on.
    const auto stopping = [stop] { return stop != nullptr && stop->load(); };
    int total = 0;
    std::vector<std::string> passed_over;
    for (;;) {
        const Batch batch = expire_batch(passed_over);
        total += batch.expired;
        if (stopping()) return total;
        if (batch.storage_unavailable) break;
        if (!batch.cut_short && batch.locked < options_.batch_size) break;
    }
    while (!stopping() && db::forget_expired_jobs(session_->conn(), options_.tombstone_retention,
                                                  options_.batch_size) == options_.batch_size) {
    }
    return total;
}

void Janitor::run(const std::atomic<bool>& stop) {
    kLog.info("started", {{"retention_seconds", options_.retention.count()}});
    auto next = std::chrono::steady_clock::now();
    while (!stop.load()) {
        if (std::chrono::steady_clock::now() >= next) {
            next = std::chrono::steady_clock::now() + options_.interval;
            session_.ensure();
            if (session_) {
                try {
                    sweep(&stop);
                } catch (const pqxx::broken_connection&) {
                    session_.drop("while expiring jobs");
                } catch (const pqxx::sql_error& e) {
                    kLog.error("expiring jobs failed", {{"error", e.what()}});
                    metrics::worker_metrics().database_error("janitor");
                } catch (const std::exception& e) {
                    kLog.error("expiring jobs failed", {{"error", e.what()}});
                }
            }
        }
        std::this_thread::sleep_for(kStopCheck);
    }
    kLog.info("stopped");
}

}  // namespace enconvert::janitor

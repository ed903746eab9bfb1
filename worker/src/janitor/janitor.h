// Retention: deletes finished jobs' files and rows after the configured
// period, in small batches, on a thread of its own (docs/operations.md
// "Retention"). Every worker runs one; SKIP LOCKED shares the work.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "db/reconnecting_session.h"

namespace enconvert::janitor {

struct JanitorOptions {
    std::string database_url;
    // Finished jobs older than this are expired; 0 disables the janitor.
    std::chrono::seconds retention{24 * 3600};
    // Tombstones older than this are deleted (their ids then answer 404).
    std::chrono::seconds tombstone_retention{30 * 24 * 3600};
    std::chrono::milliseconds interval{60'000};
    int batch_size = 100;
    // A batch's row locks are held while its files are deleted: once this
    // long has passed, the batch is committed after the job in hand and the
    // jobs not reached go to the next batch (one job's files at least).
    std::chrono::milliseconds batch_time_budget{5'000};
};

class Janitor {
  public:
    // `remove_file` deletes one stored object by key; it throws when the
    // deletion may not have happened (its job is then kept for the next
    // pass), and succeeds for a key that is already gone.
    using RemoveFile = std::function<void(const std::string& key)>;

    Janitor(JanitorOptions options, RemoveFile remove_file);

    // One pass: batches until nothing is left to expire, `stop` is set
    // (checked after each batch) or the store is unavailable (a pass would
    // otherwise try every expired job, each with its retries, in vain).
    // Returns the number of jobs expired.
    // Throws pqxx errors (run() handles them).
    int sweep(const std::atomic<bool>* stop = nullptr);

    // Sweeps every interval until `stop` is set.
    void run(const std::atomic<bool>& stop);

  private:
    struct Batch {
        int locked = 0;                    // jobs taken (a full batch: more may wait)
        int expired = 0;                   // of them, expired
        bool cut_short = false;            // the time budget left some untouched
        bool storage_unavailable = false;  // the store is failing: end the pass
    };
    // Jobs in `passed_over` are not taken; those whose files could not be
    // deleted are added to it.
    Batch expire_batch(std::vector<std::string>& passed_over);

    JanitorOptions options_;
    RemoveFile remove_file_;
    db::ReconnectingSession session_;
};

}  // namespace enconvert::janitor

// The scheduler thread: claims runnable tasks from PostgreSQL (leases, SKIP
// LOCKED) up to the renderer pool's free slots, hands them to the renderers,
// stores results and records outcomes. One poll loop over the renderer fds
// and its own PostgreSQL connection (LISTEN enconvert_task_ready).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "db/job_types.h"
#include "db/reconnecting_session.h"
#include "render/renderer_pool.h"
#include "scheduler/storer.h"
#include "scheduler/task_outcome.h"
#include "storage/storage.h"
#include "util/backoff.h"
#include "util/record_queue.h"

namespace enconvert::scheduler {

struct SchedulerOptions {
    std::string database_url;
    std::string worker_id;  // lease owner
    // A claimed task is ours this long; renewed every third of it while it
    // runs, so a dead worker's tasks are taken over within this time.
    int lease_seconds = 20;
    // retry.max_attempts: a task whose lease expired this many times (its
    // worker died or hung each time), or whose renderer crashed under it on
    // each attempt, is failed instead of being retried forever.
    RetryPolicy retry;
    // Claim even without a NOTIFY this often: expired leases and
    // notifications lost during a reconnect are picked up this way.
    std::chrono::milliseconds claim_interval{2000};
    // Most tasks of one account in flight across all workers; 0: no limit
    // (claims still take turns between accounts).
    int account_max_in_flight = 0;
    // Longest wait of one statement (PostgreSQL's statement_timeout), and at
    // most a third of the lease. A result waits for its job's row lock:
    // without a bound, a session that keeps that row locked would hold up
    // every other result, lease renewal and claim of this worker; past it
    // the result is tried again later.
    std::chrono::milliseconds statement_timeout{5000};
};

class Scheduler {
  public:
    // Connects to the database (throws on failure) and takes the pool, which
    // from then on is used only by the thread running run().
    Scheduler(SchedulerOptions options, std::unique_ptr<render::RendererPool> pool,
              storage::Storage& storage);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Runs until `stop`; then hands in-flight tasks back to the queue.
    void run(const std::atomic<bool>& stop);

  private:
    struct InFlight {
        db::ClaimedTask task;
        std::filesystem::path temp_file;
        // Until when the lease is surely ours (last claim or renewal).
        std::chrono::steady_clock::time_point lease_until;
        // The lease was lost: the render was cancelled, its result is
        // dropped (another worker may be rendering the task). A rendered
        // task stays here, its lease renewed, until the Storer has stored
        // its file.
        bool abandoned = false;
    };

    void claim_and_submit();
    void renew_leases();
    void abandon(InFlight& f, const std::string& why);
    std::chrono::milliseconds renewal_interval() const;
    // Removes what killed workers and late renders left in the storage's
    // scratch directory (storage/temp_sweep.h): at start, then hourly.
    void sweep_temp_dir();
    void collect_results(bool stopping);
    void collect_stored();
    // One pass over the outcomes waiting to be recorded, for at most a
    // second unless `all` (the stop's last chance).
    void flush_outcomes(bool all = false);
    util::RecordStep record_outcome(const db::TaskOutcome& o);
    // Once reconnected: releases the tasks leased to us that are neither
    // in flight nor waiting to be recorded.
    void hand_back_unknown_tasks();
    // True when it dropped any: their tasks are still leased to us.
    bool drop_unrecorded();
    // Hands back what is rendering and, with `dropped`, the tasks of the
    // outcomes drop_unrecorded() let go.
    void release_in_flight(bool dropped);

    SchedulerOptions options_;
    std::unique_ptr<render::RendererPool> pool_;
    storage::Storage& storage_;
    db::ReconnectingSession session_;
    std::map<std::int64_t, InFlight> in_flight_;  // by task id
    // Outcomes not yet recorded because the database was unreachable; our
    // lease keeps the tasks ours meanwhile.
    util::RecordQueue<db::TaskOutcome> unrecorded_;
    // Tasks of unrecorded_ whose recording COMMIT was cut off: it may have
    // gone through, so their stored files are never removed at a stop.
    std::set<std::int64_t> commit_in_doubt_;
    bool want_claim_ = true;
    bool storage_full_logged_ = false;
    std::chrono::steady_clock::time_point next_claim_{};
    std::chrono::steady_clock::time_point next_renewal_{};
    std::chrono::steady_clock::time_point next_temp_sweep_{};  // now: at start
    // Last member: stopped (and its jobs finished) before the rest goes.
    Storer storer_;
};

}  // namespace enconvert::scheduler

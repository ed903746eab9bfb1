#include "scheduler/scheduler.h"

#include <poll.h>

#include <algorithm>
#include <vector>

#include "db/errors.h"
#include "db/job_repository.h"
#include "db/task_claims.h"
#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "scheduler/task_outcome.h"
#include "storage/object_key.h"
#include "storage/temp_sweep.h"
#include "util/ids.h"

namespace enconvert::scheduler {

namespace {
constexpr std::chrono::milliseconds kMaxWait{250};  // bounds the stop-flag latency
constexpr std::chrono::milliseconds kContendedClaimRetry{50};
constexpr log::Logger kLog{"scheduler"};

// A third of a lease: leases are renewed that often, and no statement of
// this thread may wait longer, or a lease renewed just before it could lapse
// before the next renewal (a 5 s wait for a locked job row outlasted a 3 s
// lease).
std::chrono::milliseconds renewal_interval_of(const SchedulerOptions& o) {
    return std::chrono::milliseconds(o.lease_seconds * 1000 / 3);
}

std::chrono::milliseconds statement_bound(const SchedulerOptions& o) {
    return std::min(o.statement_timeout, renewal_interval_of(o));
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, std::unique_ptr<render::RendererPool> pool,
                     storage::Storage& storage)
    : options_(std::move(options)),
      pool_(std::move(pool)),
      storage_(storage),
      session_(options_.database_url, {db::kTaskReadyChannel}, "scheduler",
               statement_bound(options_)) {}

Scheduler::~Scheduler() = default;

// Each outcome may wait for its job's row up to the statement bound (another
// session holding it): leases due are renewed between two outcomes, or a
// pass refused several times in a row let every other lease lapse. A pass
// ends after a second so results are collected and tasks claimed meanwhile;
// what is left waits for the next turn of the loop.
void Scheduler::flush_outcomes(bool all) {
    const auto until = all ? std::chrono::steady_clock::time_point::max()
                           : std::chrono::steady_clock::now() + std::chrono::seconds(1);
    unrecorded_.pass([this, until] { return session_ && std::chrono::steady_clock::now() < until; },
                     [this](const db::TaskOutcome& o) {
                         renew_leases();
                         if (!session_) return util::RecordStep::kept;  // lost while renewing
                         return record_outcome(o);
                     });
}

namespace {

void job_finished(const db::FinishResult& r) {
    kLog.info("job finished", {{"job_id", r.job_id}, {"status", r.job_status}});
    metrics::worker_metrics().job_finished(r.endpoint, r.job_status);
}

}  // namespace

util::RecordStep Scheduler::record_outcome(const db::TaskOutcome& o) {
    try {
        const db::FinishResult r = db::finish_task(session_->conn(), options_.worker_id, o);
        if (!r.applied) {
            kLog.warning("lease lost, result discarded",
                         {{"job_id", o.job_id}, {"task_id", o.task_id}});
            if (o.ok) storage_.remove(o.object_key);
        } else if (r.recorded_before) {
            kLog.info("task outcome found recorded by the commit that was in doubt",
                      {{"job_id", o.job_id}, {"task_id", o.task_id}});
            if (r.job_terminal) job_finished(r);
        } else if (o.retry) {
            kLog.info("task back in the queue",
                      {{"job_id", r.job_id}, {"task_id", o.task_id}, {"error_code", o.error_code}});
        } else {
            log::write(
                o.ok ? log::Level::info : log::Level::warning, "scheduler",
                o.ok ? "task succeeded" : "task failed",
                {{"job_id", r.job_id},
                 {"task_id", o.task_id},
                 {"error_code", o.ok ? nlohmann::json(nullptr) : nlohmann::json(o.error_code)}});
            if (r.archive_pending) kLog.info("job waits for its ZIP", {{"job_id", r.job_id}});
            if (r.job_terminal) job_finished(r);
        }
        commit_in_doubt_.erase(o.task_id);
        return util::RecordStep::recorded;
    } catch (const pqxx::in_doubt_error&) {
        // The connection was lost during the COMMIT: whether it went
        // through is unknown. Kept, and recorded again once connected
        // (finish_task recognises its own earlier commit); dropped, the
        // task would wait for its lease to run out and render again.
        commit_in_doubt_.insert(o.task_id);
        session_.drop("while committing a result");
        return util::RecordStep::kept;
    } catch (const pqxx::broken_connection&) {
        session_.drop("while recording a result");
        return util::RecordStep::kept;
    } catch (const pqxx::sql_error& e) {
        if (db::means_unavailable(e)) {
            // A full disk, a cancelled statement, a server going down: kept
            // and recorded later; dropped, the stored file would be orphaned
            // and the page rendered again once its lease ran out. A server
            // going down closed the connection: recorded once reconnected.
            // One still open refused this statement (a statement_timeout, a
            // full disk): the connection stays (dropping it every half
            // second starved the leases and claims) and the outcome is tried
            // again after the back-off, behind the others.
            if (!session_->conn().is_open()) {
                session_.drop("while recording a result");
                return util::RecordStep::kept;
            }
            kLog.warning("recording a task outcome refused for now, tried again later",
                         {{"job_id", o.job_id}, {"task_id", o.task_id}, {"error", e.what()}});
            metrics::worker_metrics().database_error("scheduler");
            return util::RecordStep::refused;
        }
        kLog.error("recording a task outcome failed",
                   {{"job_id", o.job_id}, {"task_id", o.task_id}, {"error", e.what()}});
    } catch (const std::exception& e) {
        // Not a connectivity problem: retrying would fail the same way.
        kLog.error("recording a task outcome failed",
                   {{"job_id", o.job_id}, {"task_id", o.task_id}, {"error", e.what()}});
    }
    metrics::worker_metrics().database_error("scheduler");
    commit_in_doubt_.erase(o.task_id);
    return util::RecordStep::dropped;
}

void Scheduler::claim_and_submit() {
    const auto now = std::chrono::steady_clock::now();
    if (!session_ || pool_->free_slots() == 0) return;
    if (!want_claim_ && now < next_claim_) return;
    // A full storage would only fail the renders it takes: tasks wait in
    // the queue until there is room.
    if (!storage_.has_room()) {
        if (!storage_full_logged_) kLog.warning("storage is nearly full: not taking new tasks");
        storage_full_logged_ = true;
        want_claim_ = false;
        next_claim_ = now + options_.claim_interval;
        return;
    }
    if (storage_full_logged_) kLog.info("storage has room again");
    storage_full_logged_ = false;
    const int limit = static_cast<int>(pool_->free_slots());
    db::ClaimResult claim;
    try {
        claim = db::claim_batch(session_->conn(), options_.worker_id, options_.lease_seconds,
                                db::ClaimLimits{limit, options_.account_max_in_flight});
    } catch (const pqxx::broken_connection&) {
        session_.drop("while claiming");
        return;
    } catch (const pqxx::in_doubt_error&) {
        // The claim may have been committed: its tasks would be leased to
        // us with nobody rendering them. The reconnect hands them back.
        session_.drop("while committing a claim");
        return;
    } catch (const std::exception& e) {
        kLog.error("claiming tasks failed", {{"error", e.what()}});
        metrics::worker_metrics().database_error("scheduler");
        next_claim_ = now + options_.claim_interval;
        want_claim_ = false;
        return;
    }
    // A full batch suggests more work is waiting: claim again next turn.
    // Tasks passed over because another worker was claiming them at the same
    // moment are looked at again shortly, once that claim has committed.
    want_claim_ = static_cast<int>(claim.tasks.size()) == limit;
    next_claim_ = now + (claim.contended ? kContendedClaimRetry : options_.claim_interval);

    for (auto& task : claim.tasks) {
        if (in_flight_.count(task.task_id)) {
            // Its lease ran out while the database was unreachable and we
            // claimed it back before our cancelled render answered: hand it
            // back (no attempt used) rather than run one id twice at once.
            db::TaskOutcome o;
            o.task_id = task.task_id;
            o.job_id = task.job_id;
            o.claim = task.claim;
            o.retry = true;
            o.count_attempt = false;
            o.retry_after_seconds = 1;
            o.error_code = "cancelled";
            o.error = "The render was cancelled";
            unrecorded_.push(std::move(o));
            continue;
        }
        if (task.attempts > options_.retry.max_attempts) {
            db::TaskOutcome o;
            o.task_id = task.task_id;
            o.job_id = task.job_id;
            o.claim = task.claim;
            o.error_code = "render_failed";
            o.error = "The page could not be rendered after " +
                      std::to_string(options_.retry.max_attempts) + " attempts.";
            unrecorded_.push(std::move(o));
            continue;
        }
        const std::string format = storage::format_for(task.endpoint, task.options);
        render::RenderRequest req;
        req.id = static_cast<std::uint64_t>(task.task_id);
        req.job_id = task.job_id;
        req.url = task.url;
        req.format = format;
        const std::filesystem::path temp =
            storage_.temp_dir() / ("task-" + std::to_string(task.task_id) + "-" +
                                   util::random_hex(4) + "." + storage::extension_for(format));
        req.out_path = temp.string();
        req.options = task.options;
        req.alone = task.run_alone;
        kLog.info("task claimed", {{"job_id", task.job_id},
                                   {"task_id", task.task_id},
                                   {"attempt", task.attempts},
                                   {"alone", task.run_alone},
                                   {"url", log::redact_url(task.url)}});
        const auto id = task.task_id;
        in_flight_.emplace(id, InFlight{std::move(task), temp,
                                        now + std::chrono::seconds(options_.lease_seconds)});
        pool_->submit(std::move(req));
    }
    metrics::worker_metrics().set_tasks_in_flight(in_flight_.size());
    flush_outcomes();
}

std::chrono::milliseconds Scheduler::renewal_interval() const {
    return renewal_interval_of(options_);
}

void Scheduler::abandon(InFlight& f, const std::string& why) {
    if (f.abandoned) return;
    kLog.warning("render cancelled",
                 {{"job_id", f.task.job_id}, {"task_id", f.task.task_id}, {"why", why}});
    f.abandoned = true;
    pool_->cancel(static_cast<std::uint64_t>(f.task.task_id));
}

// Heartbeat: while a task renders its lease is extended, so only a dead (or
// cut-off) worker's tasks expire. A task whose lease could not be kept is
// stopped: another worker may take it, and one task must not be rendered
// to completion twice. So is the lease of a task whose outcome waits to be
// recorded (the database refused it for now): past its expiry the task
// would be claimed and rendered again while its result waits.
void Scheduler::renew_leases() {
    const auto now = std::chrono::steady_clock::now();
    if ((in_flight_.empty() && unrecorded_.empty()) || now < next_renewal_) return;
    next_renewal_ = now + renewal_interval();
    std::vector<std::int64_t> ids;
    for (const auto& [id, f] : in_flight_)
        if (!f.abandoned) ids.push_back(id);
    unrecorded_.for_each([&ids](const db::TaskOutcome& o) { ids.push_back(o.task_id); });
    if (ids.empty()) return;
    if (session_) {
        try {
            const auto renewed =
                db::renew_leases(session_->conn(), options_.worker_id, options_.lease_seconds, ids);
            for (const auto id : ids) {
                const auto f = in_flight_.find(id);
                if (f == in_flight_.end()) continue;  // an outcome: finish_task checks the lease
                if (std::find(renewed.begin(), renewed.end(), id) != renewed.end())
                    f->second.lease_until = now + std::chrono::seconds(options_.lease_seconds);
                else
                    abandon(f->second, "lease lost");
            }
        } catch (const pqxx::broken_connection&) {
            session_.drop("while renewing leases");
        } catch (const std::exception& e) {
            kLog.error("renewing leases failed", {{"error", e.what()}});
            metrics::worker_metrics().database_error("scheduler");
        }
    }
    // Unreachable database: past its expiry a lease may belong to another
    // worker already.
    for (auto& [id, f] : in_flight_)
        if (now >= f.lease_until) abandon(f, "lease expired while the database was unreachable");
}

void Scheduler::sweep_temp_dir() {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_temp_sweep_) return;
    next_temp_sweep_ = now + std::chrono::hours(1);
    if (const int n = storage::remove_stale_temp_entries(storage_.temp_dir()); n > 0)
        kLog.info("stale scratch files removed",
                  {{"count", n}, {"dir", storage_.temp_dir().string()}});
}

void Scheduler::collect_results(bool stopping) {
    for (const render::RenderResult& r : pool_->collect()) {
        auto it = in_flight_.find(static_cast<std::int64_t>(r.id));
        if (it == in_flight_.end()) {
            kLog.warning("result for an unknown task ignored", {{"task_id", r.id}});
            continue;
        }
        if (it->second.abandoned) {
            std::error_code ec;
            std::filesystem::remove(it->second.temp_file, ec);
            in_flight_.erase(it);
            want_claim_ = true;
            continue;
        }
        // Renderers that die while the worker stops (a service manager may
        // signal them too): their tasks are handed back with the others,
        // not recorded as crashes that cost an attempt.
        if (stopping && (r.renderer_lost || r.renderer_stopped)) continue;
        metrics::worker_metrics().render_finished(r.ok ? "success" : "failure",
                                                  r.render_ms / 1000.0);
        want_claim_ = true;  // a renderer slot is free again
        if (r.ok) {
            // Storing may mean an upload: on the Storer's thread, while the
            // task stays in flight here (its lease renewed).
            const InFlight& f = it->second;
            storer_.submit(
                [task = f.task, r, temp = f.temp_file, &storage = storage_,
                 retry = options_.retry] { return make_outcome(task, r, storage, temp, retry); });
            continue;
        }
        unrecorded_.push(
            make_outcome(it->second.task, r, storage_, it->second.temp_file, options_.retry));
        in_flight_.erase(it);
    }
    metrics::worker_metrics().set_tasks_in_flight(in_flight_.size());
}

void Scheduler::collect_stored() {
    for (db::TaskOutcome& o : storer_.take_done()) {
        // A task abandoned meanwhile is recorded all the same: finish_task
        // then finds the lease gone and the stored object is removed.
        in_flight_.erase(o.task_id);
        unrecorded_.push(std::move(o));
    }
    metrics::worker_metrics().set_tasks_in_flight(in_flight_.size());
}

// Outcomes the database could not take before the stop (it is down): each
// task's lease runs out and the page is rendered again by whoever claims it.
// A stored file no row points at would never be removed by retention, so it
// goes now, unless a COMMIT recording it was in doubt (it may be the task's
// result).
bool Scheduler::drop_unrecorded() {
    bool dropped = false;
    unrecorded_.for_each([this, &dropped](const db::TaskOutcome& o) {
        dropped = true;
        const bool keep_file = !o.ok || o.object_key.empty() || commit_in_doubt_.count(o.task_id);
        kLog.error("task outcome not recorded: the database is unavailable as the worker stops",
                   {{"job_id", o.job_id},
                    {"task_id", o.task_id},
                    {"file", keep_file ? nlohmann::json(nullptr) : nlohmann::json("removed")}});
        if (!keep_file) storage_.remove(o.object_key);
    });
    unrecorded_.clear();
    commit_in_doubt_.clear();
    return dropped;
}

// After a lost connection some tasks may be leased to us that nothing here
// works on: a claim whose COMMIT went through unanswered, an outcome that
// could not be recorded and was let go. They would wait for their lease to
// run out (and cost an attempt); handed back now, they are claimed at once.
void Scheduler::hand_back_unknown_tasks() {
    std::vector<std::int64_t> known;
    for (const auto& [id, f] : in_flight_) known.push_back(id);
    unrecorded_.for_each([&known](const db::TaskOutcome& o) { known.push_back(o.task_id); });
    try {
        if (const int n = db::release_tasks(session_->conn(), options_.worker_id, known); n > 0)
            kLog.warning("tasks leased to this worker that it was not running handed back",
                         {{"count", n}});
    } catch (const pqxx::broken_connection&) {
        session_.drop("while handing back tasks");
    } catch (const std::exception& e) {
        kLog.error("handing back tasks failed", {{"error", e.what()}});
        metrics::worker_metrics().database_error("scheduler");
    }
}

void Scheduler::release_in_flight(bool dropped) {
    // An outcome the database refused at the stop leaves its task leased to
    // us as well: handed back with the rest, not left to its lease (it was
    // only when another task happened to be rendering).
    if (in_flight_.empty() && !dropped) return;
    for (const auto& [id, f] : in_flight_) {
        std::error_code ec;
        std::filesystem::remove(f.temp_file, ec);
    }
    if (!session_) return;  // leases will expire and be reclaimed
    try {
        const int n = db::release_tasks(session_->conn(), options_.worker_id);
        kLog.info("unfinished tasks handed back to the queue", {{"count", n}});
    } catch (const std::exception& e) {
        kLog.error("releasing tasks failed", {{"error", e.what()}});
    }
}

void Scheduler::run(const std::atomic<bool>& stop) {
    kLog.info("started", {{"worker_id", options_.worker_id}});
    while (!stop.load()) {
        if (session_.ensure()) {
            want_claim_ = true;
            hand_back_unknown_tasks();
        }
        if (session_.take_notifications()) want_claim_ = true;
        flush_outcomes();
        renew_leases();
        sweep_temp_dir();
        claim_and_submit();

        std::vector<pollfd> fds;
        for (int fd : pool_->poll_fds()) fds.push_back({fd, POLLIN, 0});
        fds.push_back({storer_.wake_fd(), POLLIN, 0});
        if (session_) fds.push_back({session_->fd(), POLLIN, 0});
        auto wait = std::min(pool_->next_timeout(), kMaxWait);
        if (!in_flight_.empty() || !unrecorded_.empty())
            wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  next_renewal_ - std::chrono::steady_clock::now()),
                              std::chrono::milliseconds(0), wait);
        if (session_ && pool_->free_slots() > 0) {
            const auto until_claim = std::chrono::duration_cast<std::chrono::milliseconds>(
                next_claim_ - std::chrono::steady_clock::now());
            wait = std::clamp(until_claim, std::chrono::milliseconds(0), wait);
            if (want_claim_) wait = std::chrono::milliseconds(0);
        }
        if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) < 0 && errno != EINTR) {
            kLog.error("poll failed", {{"errno", errno}});
        }
        collect_results(stop.load());
        collect_stored();
    }
    // Uploads under way finish (and are recorded); those not started are
    // handed back with the rest. An upload may take a while (a stalled
    // store, its retries): leases are renewed meanwhile, or the tasks
    // rendering and the one being stored could be taken by another worker.
    while (storer_.drop_queued()) {
        renew_leases();
        pollfd wake{storer_.wake_fd(), POLLIN, 0};
        const auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         next_renewal_ - std::chrono::steady_clock::now()),
                                     std::chrono::milliseconds(0), kMaxWait);
        ::poll(&wake, 1, static_cast<int>(wait.count()));
        collect_stored();
    }
    storer_.stop();
    collect_stored();
    // Outcomes kept after a lost connection (or a cancelled statement) wait
    // for the back-off; at a stop it would outlast us and their pages would
    // be rendered again: one attempt now.
    if (!unrecorded_.empty() || !in_flight_.empty()) session_.ensure_now();
    unrecorded_.retry_refused_now();  // and whatever the back-off for refusals says
    flush_outcomes(/*all=*/true);
    const bool dropped = drop_unrecorded();
    release_in_flight(dropped);
    kLog.info("stopped");
}

}  // namespace enconvert::scheduler

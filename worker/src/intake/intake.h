// The intake thread: one ROUTER socket facing the nginx modules and its own
// PostgreSQL connection LISTENing on enconvert_job_done, both in one
// zmq_poll loop. Sync requests are parked in SyncWaiters until their job's
// NOTIFY arrives.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "db/session.h"
#include "intake/request_handler.h"
#include "intake/sync_waiters.h"
#include "intake/zap_handler.h"
#include "util/backoff.h"

namespace enconvert::intake {

struct IntakeOptions {
    std::string listen;        // ZeroMQ endpoint to bind
    std::string database_url;  // libpq connection string
    // How long a sync request is remembered; longer than any module's
    // enconvert_sync_timeout, after which the module answered 202 itself.
    std::chrono::seconds sync_wait{600};
    // Bound on every statement of the intake's connection: one thread serves
    // every module, so a query stuck behind a lock must fail (503) rather
    // than stall all requests.
    std::chrono::milliseconds statement_timeout{5000};
    // Tighter bound for the health check's `SELECT 1`.
    std::chrono::milliseconds health_timeout{2000};
    // Bounds on unfinished tasks past which jobs are refused (back-pressure).
    db::QueueLimits queue_limits{};
    // How long finished jobs are kept (0: forever): bounds how long nginx
    // may answer a finished job's status itself.
    std::chrono::seconds retention{0};
    // CURVE (docs/scaling.md): this worker's secret key (Z85; empty: no
    // CURVE) and the nginx hosts' public keys it lets in.
    std::string curve_secret_key{};
    std::set<std::string> curve_allowed_clients{};
    // ZeroMQ heartbeats: a connection silent this long is dropped.
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds heartbeat_timeout{3000};
};

class Intake {
  public:
    // Binds the socket and connects to the database, so a bad endpoint or
    // database fails at startup (throws zmq::error_t / pqxx exceptions).
    Intake(zmq::context_t& ctx, IntakeOptions options, storage::Presigner presigner);
    ~Intake();
    Intake(const Intake&) = delete;
    Intake& operator=(const Intake&) = delete;

    // The endpoint bound, with the port the system chose for a `*` port.
    std::string last_endpoint() const { return router_.get(zmq::sockopt::last_endpoint); }

    // The event loop; returns once `stop` is set (checked at least every
    // 250 ms). Run on exactly one thread.
    void run(const std::atomic<bool>& stop);

  private:
    // A convert request read in this wake-up, committed with the others
    // (group commit) once the socket has no more.
    struct PendingConvert {
        std::string identity;
        std::uint64_t request_id = 0;
        ConvertRequest request;
    };

    void handle_frame(const std::string& identity, const std::string& frame,
                      std::vector<PendingConvert>& converts);
    void handle_request(const std::string& identity, const Request& req);
    void handle_converts(std::vector<PendingConvert>& converts);
    void answer_convert(const std::string& identity, std::uint64_t request_id, ConvertOutcome out);
    void handle_job_done(const std::string& job_id);
    void answer_finished_waiters();  // after a reconnect: catch missed NOTIFYs
    void send(const std::string& identity, const std::string& payload);
    std::unique_ptr<db::Session> open_session() const;
    void ensure_session();
    void drop_session(const char* why);
    void drain_notifications();

    IntakeOptions options_;
    std::unique_ptr<ZapHandler> zap_;  // with CURVE; outlives router_
    zmq::socket_t router_;
    RequestHandler handler_;
    SyncWaiters waiters_;
    std::unique_ptr<db::Session> session_;
    util::Backoff backoff_;
    bool recheck_waiters_ = false;
};

}  // namespace enconvert::intake

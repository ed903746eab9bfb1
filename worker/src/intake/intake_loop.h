// One intake loop: a DEALER socket on the front's inproc backend (see
// intake/intake.h) and its own PostgreSQL connection LISTENing on
// enconvert_job_done, both in one zmq_poll loop on one thread. Sync
// requests are parked in SyncWaiters until their job's NOTIFY arrives.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "db/session.h"
#include "intake/intake_options.h"
#include "intake/request_handler.h"
#include "intake/sync_waiters.h"
#include "util/backoff.h"

namespace enconvert::intake {

class IntakeLoop {
  public:
    // Connects to `backend` and to the database, so a bad database fails at
    // startup (throws pqxx exceptions).
    IntakeLoop(zmq::context_t& ctx, const std::string& backend, IntakeOptions options,
               storage::Presigner presigner);
    ~IntakeLoop();
    IntakeLoop(const IntakeLoop&) = delete;
    IntakeLoop& operator=(const IntakeLoop&) = delete;

    // The event loop; returns once `stop` is set (checked at least every
    // 250 ms) and what was queued for it is answered. Run on exactly one
    // thread.
    void run(const std::atomic<bool>& stop);

  private:
    // A convert request read in this wake-up, committed with the others
    // (group commit) once the socket has no more.
    struct PendingConvert {
        std::string identity;
        std::uint64_t request_id = 0;
        ConvertRequest request;
    };

    // A read-only request read in this wake-up, answered with the others
    // (their jobs read in one statement).
    struct PendingStatus {
        std::string identity;
        std::uint64_t request_id = 0;
        StatusRequest request;
    };
    struct Pending {
        std::vector<PendingConvert> converts;
        std::vector<PendingStatus> statuses;
    };
    void handle_frame(const std::string& identity, const std::string& frame, Pending& pending);
    void handle_request(const std::string& identity, const Request& req);
    // Reads what is queued on the socket (a bounded batch, never waits) and
    // answers it; returns how many messages were read.
    int serve_queued();
    void handle_converts(std::vector<PendingConvert>& converts);
    void handle_statuses(std::vector<PendingStatus>& statuses);
    // The answer to a request whose database work threw `failure` (503 when
    // the database is unavailable, 500 otherwise; never SQL or internals),
    // logged with `context`; drops the session if the connection is gone.
    // A convert's (`convert`) COMMIT cut off answers that the job may exist,
    // and whether a retry is safe.
    api::HttpAnswer answer_failure(const std::exception_ptr& failure, const nlohmann::json& context,
                                   const ConvertRequest* convert = nullptr);
    void answer_convert(const std::string& identity, std::uint64_t request_id, ConvertOutcome out);
    void handle_job_done(const std::string& job_id);
    void answer_finished_waiters();  // after a reconnect: catch missed NOTIFYs
    void send(const std::string& identity, const std::string& payload);
    std::unique_ptr<db::Session> open_session() const;
    void ensure_session();
    void drop_session(const char* why);
    void drain_notifications();

    IntakeOptions options_;
    zmq::socket_t socket_;
    RequestHandler handler_;
    SyncWaiters waiters_;
    std::unique_ptr<db::Session> session_;
    util::Backoff backoff_;
    bool recheck_waiters_ = false;
};

}  // namespace enconvert::intake

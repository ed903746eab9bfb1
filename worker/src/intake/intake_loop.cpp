#include "intake/intake_loop.h"

#include <deque>
#include <exception>
#include <type_traits>
#include <vector>

#include "db/errors.h"
#include "db/job_repository.h"
#include "db/site_discoveries.h"
#include "log/log.h"
#include "metrics/worker_metrics.h"

namespace enconvert::intake {

namespace {
constexpr int kMaxBatch = 256;  // frames per wake-up, so notifications are not starved
constexpr std::chrono::milliseconds kPollTimeout{250};

constexpr log::Logger kLog{"intake"};

const char* status_kind(const StatusRequest& s) {
    switch (s.view) {
        case View::batch:
            return "batch";
        case View::download:
            return "download";
        case View::whoami:
        case View::verify:
            return "whoami";
        case View::status:
            break;
    }
    return "status";
}

const char* request_kind(const Request& req) {
    if (std::holds_alternative<HealthRequest>(req.body)) return "health";
    if (const auto* s = std::get_if<StatusRequest>(&req.body)) return status_kind(*s);
    return "convert";
}

// Records how long the intake took to answer a request, however it returns.
class IntakeTimer {
  public:
    explicit IntakeTimer(const char* kind)
        : kind_(kind), started_(std::chrono::steady_clock::now()) {}
    ~IntakeTimer() {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started_;
        metrics::worker_metrics().intake_request(kind_, took.count());
    }
    IntakeTimer(const IntakeTimer&) = delete;
    IntakeTimer& operator=(const IntakeTimer&) = delete;

  private:
    const char* kind_;
    std::chrono::steady_clock::time_point started_;
};
// The requests of a wake-up's pending ones, moved out, each with its timer
// started (named by `kind`).
template <typename Pending, typename Kind>
auto take_requests(std::vector<Pending>& pending, std::deque<IntakeTimer>& timers, Kind kind) {
    std::vector<std::decay_t<decltype(Pending::request)>> requests;
    requests.reserve(pending.size());
    for (auto& p : pending) {
        timers.emplace_back(kind(p.request));
        requests.push_back(std::move(p.request));
    }
    return requests;
}
}  // namespace

IntakeLoop::IntakeLoop(zmq::context_t& ctx, const std::string& backend, IntakeOptions options,
                       storage::Presigner presigner)
    : options_(std::move(options)),
      socket_(ctx, zmq::socket_type::dealer),
      handler_(std::move(presigner), options_.queue_limits, options_.retention) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(backend);
    session_ = open_session();
}

IntakeLoop::~IntakeLoop() = default;

std::unique_ptr<db::Session> IntakeLoop::open_session() const {
    auto s = std::make_unique<db::Session>(
        options_.database_url,
        std::vector<std::string>{db::kJobDoneChannel, db::kDiscoveryDoneChannel}, "intake");
    s->set_statement_timeout(options_.statement_timeout);
    return s;
}

void IntakeLoop::ensure_session() {
    if (session_) return;
    const auto now = util::Backoff::clock::now();
    if (!backoff_.due(now)) return;
    try {
        session_ = open_session();
        backoff_.succeeded();
        recheck_waiters_ = true;  // NOTIFYs sent while we were away are lost
        kLog.info("database connection restored");
    } catch (const std::exception&) {
        backoff_.failed(now);
    }
}

void IntakeLoop::drop_session(const char* why) {
    if (!session_) return;
    kLog.error("database connection lost, reconnecting", {{"why", why}});
    metrics::worker_metrics().database_error("intake");
    session_.reset();
    backoff_.failed(util::Backoff::clock::now());
}

void IntakeLoop::send(const std::string& identity, const std::string& payload) {
    // dontwait: a loop never blocks on sending; the front's ROUTER drops
    // answers to peers that are gone.
    try {
        if (!socket_.send(zmq::buffer(identity),
                          zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
            return;
        }
        (void)socket_.send(zmq::buffer(payload), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
        kLog.warning("sending an answer to nginx failed", {{"error", e.what()}});
    }
}

void IntakeLoop::drain_notifications() {
    if (!session_) return;
    std::vector<db::Notification> notes;
    try {
        notes = session_->take_notifications();
    } catch (const std::exception&) {
        drop_session("notification read failed");
        return;
    }
    for (const auto& n : notes) {
        if (waiters_.contains(n.payload)) handle_job_done(n.payload);
    }
}

void IntakeLoop::handle_job_done(const std::string& job_id) {
    if (!session_) return;
    std::vector<WaiterGroup> groups = waiters_.take(job_id);
    try {
        for (auto it = groups.begin(); it != groups.end();) {
            auto answer = it->website
                              ? handler_.website_result(session_->conn(), job_id, it->account_id)
                              : handler_.sync_result(session_->conn(), job_id, it->account_id,
                                                     it->direct_download);
            if (!answer) {
                ++it;  // still processing (stale notification): keep waiting
                continue;
            }
            for (const auto& w : it->waiters)
                send(w.identity, encode_final(w.request_id, *answer, job_id));
            kLog.info(
                "sync job answered",
                {{"job_id", job_id}, {"status", answer->status}, {"requests", it->waiters.size()}});
            it = groups.erase(it);
        }
    } catch (const pqxx::broken_connection&) {
        drop_session("while loading a finished job");
    } catch (const std::exception& e) {
        // A statement timeout or a database going away is not a bug: 503
        // naming the (finished, safe) job, so nobody resubmits it.
        const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
        const api::HttpAnswer answer = sql && db::means_unavailable(*sql)
                                           ? api::finished_job_unreadable_answer(job_id)
                                           : api::internal_error_answer();
        kLog.error("loading a finished job failed", {{"job_id", job_id}, {"error", e.what()}});
        metrics::worker_metrics().database_error("intake");
        for (const auto& g : groups)
            for (const auto& w : g.waiters)
                send(w.identity, encode_final(w.request_id, answer, job_id));
        groups.clear();
    }
    for (auto& g : groups)
        for (auto& w : g.waiters) waiters_.add(job_id, std::move(w));
}

void IntakeLoop::answer_finished_waiters() {
    for (const auto& job_id : waiters_.job_ids()) {
        if (!session_) return;
        handle_job_done(job_id);
    }
}

void IntakeLoop::handle_frame(const std::string& identity, const std::string& frame,
                              Pending& pending) {
    DecodeResult decoded = decode_request(frame);
    if (auto* err = std::get_if<DecodeError>(&decoded)) {
        if (err->id) {
            send(identity, encode_final(*err->id, api::bad_message_answer(err->detail)));
        }
        kLog.warning("bad message from nginx",
                     {{"request_id", err->id ? nlohmann::json(*err->id) : nlohmann::json(nullptr)},
                      {"detail", err->detail}});
        return;
    }
    Request& req = std::get<Request>(decoded);
    if (auto* convert = std::get_if<ConvertRequest>(&req.body)) {
        pending.converts.push_back({identity, req.id, std::move(*convert)});
        return;
    }
    if (auto* status = std::get_if<StatusRequest>(&req.body)) {
        pending.statuses.push_back({identity, req.id, std::move(*status)});
        return;
    }
    handle_request(identity, req);
}

void IntakeLoop::answer_convert(const std::string& identity, std::uint64_t request_id,
                                ConvertOutcome out) {
    if (out.final) {
        send(identity, encode_final(request_id, *out.final, out.job_id));
        return;
    }
    // The job is committed; its NOTIFY can only be read by this thread
    // after we return to the loop, and the waiter exists before that.
    waiters_.add(*out.job_id,
                 Waiter{identity, request_id, out.account_id, out.direct_download, out.website,
                        std::chrono::steady_clock::now() + options_.sync_wait});
    send(identity, encode_accepted(request_id, *out.job_id, out.notice));
}

void IntakeLoop::handle_converts(std::vector<PendingConvert>& converts) {
    if (converts.empty()) return;
    if (converts.size() == 1) {
        // Alone: the single-request path and its error answers.
        Request req{converts[0].request_id, std::move(converts[0].request)};
        handle_request(converts[0].identity, req);
        converts.clear();
        return;
    }
    std::deque<IntakeTimer> timers;  // each request's time, to its answer
    const auto requests =
        take_requests(converts, timers, [](const ConvertRequest&) { return "convert"; });
    std::vector<ConvertOutcome> outcomes;
    if (session_) {
        try {
            outcomes = handler_.convert_all(session_->conn(), requests);
            // Lost while the jobs were inserted one by one: those committed
            // are answered below all the same.
            if (!session_->conn().is_open()) drop_session("during a group's single inserts");
        } catch (const pqxx::in_doubt_error&) {
            // Lost during the COMMIT: the jobs may exist, a plain retry could
            // create them twice.
            drop_session("during a group commit's COMMIT");
            for (std::size_t i = 0; i < converts.size(); ++i)
                send(converts[i].identity,
                     encode_final(
                         converts[i].request_id,
                         api::commit_in_doubt_answer(requests[i].idempotency_key.has_value())));
            converts.clear();
            return;
        } catch (const pqxx::broken_connection&) {
            drop_session("during a group commit");
        } catch (const std::exception& e) {
            // The commit (or a read before it) failed: none of the jobs is
            // known to be enqueued, every request may be retried (503).
            kLog.error("group commit failed", {{"requests", converts.size()}, {"error", e.what()}});
            metrics::worker_metrics().database_error("intake");
            if (!session_->conn().is_open()) drop_session("during a group commit");
        }
    }
    if (outcomes.size() != converts.size()) {
        for (const auto& c : converts)
            send(c.identity, encode_final(c.request_id, api::database_unavailable_answer()));
    } else {
        for (std::size_t i = 0; i < converts.size(); ++i)
            answer_convert(converts[i].identity, converts[i].request_id, std::move(outcomes[i]));
    }
    converts.clear();
}

void IntakeLoop::handle_statuses(std::vector<PendingStatus>& statuses) {
    if (statuses.size() <= 1 || !session_) {
        for (auto& s : statuses)
            handle_request(s.identity, Request{s.request_id, std::move(s.request)});
        statuses.clear();
        return;
    }
    std::deque<IntakeTimer> timers;  // each request's time, to its answer
    const auto requests = take_requests(statuses, timers, status_kind);
    try {
        const auto answers = handler_.status_all(session_->conn(), requests);
        for (std::size_t i = 0; i < statuses.size(); ++i)
            send(statuses[i].identity, encode_final(statuses[i].request_id, answers[i]));
    } catch (...) {
        const api::HttpAnswer answer =
            answer_failure(std::current_exception(), {{"requests", statuses.size()}});
        for (const auto& s : statuses) send(s.identity, encode_final(s.request_id, answer));
    }
    statuses.clear();
}

api::HttpAnswer IntakeLoop::answer_failure(const std::exception_ptr& failure,
                                           const nlohmann::json& context,
                                           const ConvertRequest* convert) {
    try {
        std::rethrow_exception(failure);
    } catch (const pqxx::in_doubt_error&) {
        // A convert's job may exist now; a read (the key lookup's
        // transaction) changed nothing.
        drop_session("during a COMMIT");
        if (convert) return api::commit_in_doubt_answer(convert->idempotency_key.has_value());
        return api::database_unavailable_answer();
    } catch (const pqxx::broken_connection&) {
        drop_session("during a request");
        return api::database_unavailable_answer();
    } catch (const pqxx::sql_error& e) {
        // Statement timeout, server shutting down, too many connections:
        // the client should retry (503), it did nothing wrong (not 500).
        kLog.error("request failed", {{"request", context}, {"error", e.what()}});
        metrics::worker_metrics().database_error("intake");
        if (session_ && !session_->conn().is_open()) drop_session("during a request");
        return db::means_unavailable(e) ? api::database_unavailable_answer()
                                        : api::internal_error_answer();
    } catch (const std::exception& e) {
        // Never SQL or internals in the answer; the log keeps the reason.
        kLog.error("request failed", {{"request", context}, {"error", e.what()}});
        return api::internal_error_answer();
    }
}

void IntakeLoop::handle_request(const std::string& identity, const Request& req) {
    const IntakeTimer timer(request_kind(req));
    if (std::holds_alternative<HealthRequest>(req.body)) {
        bool ok = false;
        if (session_) {
            try {
                ok = db::ping(session_->conn(), options_.health_timeout);
            } catch (const pqxx::broken_connection&) {
                drop_session("health check failed");
            } catch (const std::exception&) {
                // A timed-out check leaves a usable connection; keep it so
                // sync waiters keep their notifications.
                if (!session_->conn().is_open()) drop_session("health check failed");
            }
        }
        send(identity, encode_final(req.id, api::health_answer(ok)));
        return;
    }
    if (!session_) {
        send(identity, encode_final(req.id, api::database_unavailable_answer()));
        return;
    }
    try {
        if (const auto* status = std::get_if<StatusRequest>(&req.body)) {
            send(identity, encode_final(req.id, handler_.status(session_->conn(), *status)));
            return;
        }
        const auto& convert = std::get<ConvertRequest>(req.body);
        answer_convert(identity, req.id, handler_.convert(session_->conn(), convert));
    } catch (...) {
        const auto* convert = std::get_if<ConvertRequest>(&req.body);
        send(identity, encode_final(req.id, answer_failure(std::current_exception(),
                                                           {{"id", req.id}}, convert)));
    }
}

int IntakeLoop::serve_queued() {
    Pending pending;
    int read = 0;
    for (; read < kMaxBatch; ++read) {
        std::vector<zmq::message_t> parts;
        zmq::message_t part;
        bool got = false;
        do {
            if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
            got = true;
            parts.push_back(std::move(part));
        } while (socket_.get(zmq::sockopt::rcvmore));
        if (!got) break;
        if (parts.size() != 2) {
            kLog.warning("dropped a message with the wrong number of frames",
                         {{"frames", parts.size()}});
            continue;
        }
        handle_frame(parts[0].to_string(), parts[1].to_string(), pending);
    }
    // The polls that arrived together share one read, and what arrived
    // while the previous commit ran shares one commit.
    handle_statuses(pending.statuses);
    handle_converts(pending.converts);
    return read;
}

void IntakeLoop::run(const std::atomic<bool>& stop) {
    auto next_expiry = std::chrono::steady_clock::now();
    while (!stop.load()) {
        ensure_session();
        if (session_ && recheck_waiters_) {
            recheck_waiters_ = false;
            answer_finished_waiters();
        }
        // Before every wait: a query may have buffered notifications inside
        // libpq, which would leave the socket silent (lost wakeup).
        drain_notifications();

        std::vector<zmq::pollitem_t> items;
        items.push_back({socket_.handle(), 0, ZMQ_POLLIN, 0});
        if (session_) items.push_back({nullptr, session_->fd(), ZMQ_POLLIN, 0});
        try {
            zmq::poll(items, kPollTimeout);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            throw;
        }

        if (items[0].revents & ZMQ_POLLIN) serve_queued();
        // PG socket readiness is handled by drain_notifications() at the top.

        const auto now = std::chrono::steady_clock::now();
        if (now >= next_expiry) {
            if (auto n = waiters_.expire(now))
                kLog.info("forgot expired sync waiters", {{"count", n}});
            next_expiry = now + std::chrono::seconds(10);
        }
    }
    // Requests handed to this loop while it was busy (a slow commit) when
    // the stop came are answered too: the front no longer reads them back.
    while (serve_queued() > 0) {
    }
}

}  // namespace enconvert::intake

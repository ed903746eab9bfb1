// The intake: a ROUTER socket facing the nginx modules (CURVE, heartbeats)
// and `loops` intake loops (intake/intake_loop.h), each on its own thread
// with its own database connection. The front forwards requests to the
// loops through an inproc DEALER, which hands them out in turn, and their
// answers back to the ROUTER. A loop reads every request queued for it and
// commits their jobs together (group commit); with several loops, one
// reads and commits the next group while another waits for its commit's
// WAL flush (docs/internals.md "Accepting jobs: group commit").
#pragma once

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "intake/intake_loop.h"
#include "intake/intake_options.h"
#include "intake/zap_handler.h"
#include "storage/presign.h"

namespace enconvert::intake {

class Intake {
  public:
    // Binds the socket and connects every loop to the database, so a bad
    // endpoint or database fails at startup (throws zmq::error_t / pqxx
    // exceptions).
    Intake(zmq::context_t& ctx, IntakeOptions options, storage::Presigner presigner);
    ~Intake();
    Intake(const Intake&) = delete;
    Intake& operator=(const Intake&) = delete;

    // The endpoint bound, with the port the system chose for a `*` port.
    std::string last_endpoint() const { return router_.get(zmq::sockopt::last_endpoint); }

    // Runs the loops on threads of their own and the front on this one.
    // Once `stop` is set (checked at least every 250 ms) it drains: each
    // module that still sends is told this worker is stopping (it then
    // sends elsewhere), and requests keep being answered until none came
    // and none was answered for a moment (bounded); then the loops end and
    // the last answers are flushed before the socket closes. A loop that
    // fails (throws) stops the others at once and the exception is
    // rethrown here.
    void run(const std::atomic<bool>& stop);

  private:
    // An ipc:// listen's socket file: read-write for its group (nginx).
    static void allow_group_to_connect(const std::string& endpoint);
    // One wait on the sockets, then what is ready is moved; true when a
    // request or an answer went through.
    bool serve_once(std::chrono::milliseconds timeout, bool draining);
    // Serves until no request came and no answer left for a quiet moment,
    // or the bound ran out, or a loop failed (`halt`).
    void drain(const std::atomic<bool>& halt);
    // Once the loops are ending: forwards their answers, and answers a new
    // request itself, 503 not enqueued (its sender told "stopping" once).
    void refuse_once(std::chrono::milliseconds timeout);
    // Sends `payload` to the module whose ROUTER identity this is.
    void reply(const std::string& identity, const std::string& payload);
    // The first message to a module after the stop says so
    // (schema/messages.md), once per module.
    void tell_stopping_once(const std::string& identity);
    // Moves the messages waiting on `from` to `to` (up to a bound, so the
    // other direction is not starved); never blocks. `only_with_room`:
    // stops when `to` could not take a message now. `draining`: the sender
    // of a request is told once that this worker is stopping. Returns how
    // many were moved.
    int forward(zmq::socket_t& from, zmq::socket_t& to, bool only_with_room, bool draining);

    IntakeOptions options_;
    std::unique_ptr<ZapHandler> zap_;  // with CURVE; outlives router_
    zmq::socket_t router_;
    zmq::socket_t backend_;  // DEALER on this intake's own inproc endpoint
    std::vector<std::unique_ptr<IntakeLoop>> loops_;
    std::set<std::string> told_stopping_;  // module identities, while draining
};

}  // namespace enconvert::intake

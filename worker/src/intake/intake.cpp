#include "intake/intake.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <exception>
#include <iterator>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <zmq_addon.hpp>

#include "intake/wire.h"
#include "log/log.h"

namespace enconvert::intake {

namespace {

constexpr int kMaxForward = 256;  // messages per wake-up and direction
constexpr std::chrono::milliseconds kPollTimeout{250};
// Draining ends once nothing moved for IntakeOptions::drain_quiet, and at
// the latest after this (a module that does not know the "stopping"
// message keeps sending).
constexpr std::chrono::milliseconds kDrainLimit{3000};
// How long closing the socket may wait for the last answers to leave.
constexpr std::chrono::milliseconds kFinalLinger{2000};

constexpr log::Logger kLog{"intake"};

nlohmann::json curve_public_key(const std::string& secret_z85) {
    std::array<char, 41> pub{};
    if (zmq_curve_public(pub.data(), secret_z85.c_str()) != 0) return nullptr;
    return std::string(pub.data());
}

// An inproc endpoint no other intake of the process (tests run several)
// has used: a closed socket's endpoint is released later, by libzmq's
// reaper thread.
std::string backend_endpoint() {
    static std::atomic<unsigned> next{0};
    return "inproc://enconvert-intake-" + std::to_string(next++);
}

}  // namespace

Intake::Intake(zmq::context_t& ctx, IntakeOptions options, storage::Presigner presigner)
    : options_(std::move(options)),
      router_(ctx, zmq::socket_type::router),
      backend_(ctx, zmq::socket_type::dealer) {
    router_.set(zmq::sockopt::linger, 0);
    // Heartbeats drop the connection of an nginx host that went silent
    // (power loss, cut network) instead of keeping it for TCP's hours.
    const auto ivl = static_cast<int>(options_.heartbeat_interval.count());
    const auto timeout = static_cast<int>(options_.heartbeat_timeout.count());
    router_.set(zmq::sockopt::heartbeat_ivl, ivl);
    router_.set(zmq::sockopt::heartbeat_timeout, timeout);
    router_.set(zmq::sockopt::heartbeat_ttl, timeout);
    const bool curve = !options_.curve_secret_key.empty();
    if (curve) {
        // The handler must be bound before any handshake: without one,
        // libzmq lets every CURVE client in.
        zap_ = std::make_unique<ZapHandler>(ctx, options_.curve_allowed_clients);
        router_.set(zmq::sockopt::curve_server, true);
        router_.set(zmq::sockopt::curve_secretkey, options_.curve_secret_key);
        router_.set(zmq::sockopt::zap_domain, kZapDomain);
    }
    backend_.set(zmq::sockopt::linger, 0);
    const std::string backend = backend_endpoint();
    backend_.bind(backend);
    const int loops = std::max(options_.loops, 1);
    for (int i = 0; i < loops; ++i)
        loops_.push_back(std::make_unique<IntakeLoop>(ctx, backend, options_, presigner));
    router_.bind(options_.listen);
    allow_group_to_connect(options_.listen);
    // The public key is what every nginx host sets as
    // enconvert_curve_server_key; logging it lets an operator compare.
    kLog.info("listening", {{"endpoint", last_endpoint()},
                            {"loops", loops},
                            {"curve", curve},
                            {"curve_public_key", curve ? curve_public_key(options_.curve_secret_key)
                                                       : nlohmann::json(nullptr)},
                            {"allowed_clients", options_.curve_allowed_clients.size()}});
}

Intake::~Intake() = default;

// nginx (the socket's group, www-data in the package) connects to an ipc://
// socket: it needs write permission on it whatever the umask, which keeps
// group write off everything else the worker creates (stored files were
// writable by every www-data process under the unit's former UMask=0007).
void Intake::allow_group_to_connect(const std::string& endpoint) {
    constexpr std::string_view kIpc = "ipc://";
    if (endpoint.rfind(kIpc, 0) != 0 || endpoint.size() == kIpc.size() ||
        endpoint[kIpc.size()] == '@')  // an abstract socket has no file
        return;
    const std::string path = endpoint.substr(kIpc.size());
    if (::chmod(path.c_str(), 0660) != 0)
        throw std::system_error(errno, std::generic_category(), "chmod " + path);
}

int Intake::forward(zmq::socket_t& from, zmq::socket_t& to, bool only_with_room, bool draining) {
    int moved = 0;
    for (; moved < kMaxForward; ++moved) {
        if (only_with_room && !(to.get(zmq::sockopt::events) & ZMQ_POLLOUT)) break;
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(from, std::back_inserter(parts), zmq::recv_flags::dontwait)) break;
        // The request itself is still answered below.
        if (draining && !parts.empty()) tell_stopping_once(parts[0].to_string());
        // A ROUTER drops an answer to a peer that is gone.
        (void)zmq::send_multipart(to, parts, zmq::send_flags::dontwait);
    }
    return moved;
}

bool Intake::serve_once(std::chrono::milliseconds timeout, bool draining) {
    std::vector<zmq::pollitem_t> items;
    items.push_back({router_.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({backend_.handle(), 0, ZMQ_POLLIN, 0});
    if (zap_) items.push_back({zap_->socket().handle(), 0, ZMQ_POLLIN, 0});
    try {
        zmq::poll(items, timeout);
    } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) return false;
        throw;
    }
    // Before the requests: a connecting nginx host's handshake waits on it.
    if (zap_ && (items[2].revents & ZMQ_POLLIN)) zap_->answer_pending();
    int moved = 0;
    if (items[1].revents & ZMQ_POLLIN) moved += forward(backend_, router_, false, false);
    // Toward the loops, only what one of them can take now: the rest waits
    // in the ROUTER (and then in nginx) instead of being dropped.
    if (items[0].revents & ZMQ_POLLIN) moved += forward(router_, backend_, true, draining);
    return moved > 0;
}

void Intake::refuse_once(std::chrono::milliseconds timeout) {
    std::array<zmq::pollitem_t, 2> items{
        {{router_.handle(), 0, ZMQ_POLLIN, 0}, {backend_.handle(), 0, ZMQ_POLLIN, 0}}};
    try {
        zmq::poll(items.data(), items.size(), timeout);
    } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) return;
        throw;
    }
    if (items[1].revents & ZMQ_POLLIN) forward(backend_, router_, false, false);
    for (int i = 0; i < kMaxForward; ++i) {
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(router_, std::back_inserter(parts), zmq::recv_flags::dontwait))
            return;
        if (parts.size() != 2) continue;
        const std::string identity = parts[0].to_string();
        std::optional<std::uint64_t> id;
        const DecodeResult decoded = decode_request(parts[1].to_string_view());
        if (const auto* req = std::get_if<Request>(&decoded))
            id = req->id;
        else
            id = std::get<DecodeError>(decoded).id;
        tell_stopping_once(identity);
        if (id) reply(identity, encode_final(*id, api::worker_stopping_answer()));
    }
}

void Intake::reply(const std::string& identity, const std::string& payload) {
    std::array<zmq::const_buffer, 2> frames{zmq::buffer(identity), zmq::buffer(payload)};
    // A ROUTER drops a message to a peer that is gone.
    (void)zmq::send_multipart(router_, frames, zmq::send_flags::dontwait);
}

void Intake::tell_stopping_once(const std::string& identity) {
    if (told_stopping_.insert(identity).second) reply(identity, encode_stopping());
}

void Intake::drain(const std::atomic<bool>& halt) {
    kLog.info("stopping: answering what the modules still send");
    const auto start = std::chrono::steady_clock::now();
    auto last_moved = start;
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (halt.load() || now - last_moved >= options_.drain_quiet || now - start >= kDrainLimit)
            break;
        if (serve_once(options_.drain_quiet / 4, true))
            last_moved = std::chrono::steady_clock::now();
    }
}

void Intake::run(const std::atomic<bool>& stop) {
    // The loops end when this is set: after the drain, or when one of them
    // failed.
    std::atomic<bool> halt{false};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::vector<std::thread> threads;
    std::atomic<std::size_t> running{loops_.size()};
    for (auto& loop : loops_) {
        threads.emplace_back([&, l = loop.get()] {
            try {
                l->run(halt);
            } catch (...) {
                const std::lock_guard<std::mutex> lock(failure_mutex);
                if (!failure) failure = std::current_exception();
                halt = true;
            }
            --running;
        });
    }
    try {
        while (!stop.load() && !halt.load()) serve_once(kPollTimeout, false);
        drain(halt);
    } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
    }
    halt = true;
    try {
        // While the loops finish what they hold (a slow commit), their
        // answers still go out, and a request that comes now (from a module
        // that was quiet during the drain) is refused as not enqueued rather
        // than left unread until the socket closes.
        while (running.load() > 0) refuse_once(options_.drain_quiet / 4);
        // What the loops answered in their last wake-up, then time for it
        // to leave: closing with linger 0 would drop answers to requests
        // whose jobs are committed.
        while (forward(backend_, router_, false, false) > 0) {
        }
        refuse_once(std::chrono::milliseconds(0));
    } catch (const zmq::error_t& e) {
        kLog.warning("answering while stopping failed", {{"error", e.what()}});
    }
    for (auto& t : threads) t.join();
    try {
        router_.set(zmq::sockopt::linger, static_cast<int>(kFinalLinger.count()));
        // Closed now, not with the Intake: until then libzmq would keep
        // taking requests (and heartbeats) that nobody reads, for as long as
        // the rest of the worker takes to stop.
        router_.close();
    } catch (const zmq::error_t& e) {
        kLog.warning("the last answers could not be sent", {{"error", e.what()}});
    }
    kLog.info("stopped");
    if (failure) std::rethrow_exception(failure);
}

}  // namespace enconvert::intake

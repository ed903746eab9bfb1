#include "intake/intake.h"

#include <array>
#include <exception>
#include <iterator>
#include <mutex>
#include <thread>
#include <zmq_addon.hpp>

#include "log/log.h"

namespace enconvert::intake {

namespace {

constexpr int kMaxForward = 256;  // messages per wake-up and direction
constexpr std::chrono::milliseconds kPollTimeout{250};

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

void Intake::forward(zmq::socket_t& from, zmq::socket_t& to, bool only_with_room) {
    for (int i = 0; i < kMaxForward; ++i) {
        if (only_with_room && !(to.get(zmq::sockopt::events) & ZMQ_POLLOUT)) return;
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(from, std::back_inserter(parts), zmq::recv_flags::dontwait))
            return;
        // A ROUTER drops an answer to a peer that is gone.
        (void)zmq::send_multipart(to, parts, zmq::send_flags::dontwait);
    }
}

void Intake::run(const std::atomic<bool>& stop) {
    // The loops end when this is set: on `stop`, or when one of them failed.
    std::atomic<bool> halt{false};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    std::vector<std::thread> threads;
    for (auto& loop : loops_) {
        threads.emplace_back([&, l = loop.get()] {
            try {
                l->run(halt);
            } catch (...) {
                const std::lock_guard<std::mutex> lock(failure_mutex);
                if (!failure) failure = std::current_exception();
                halt = true;
            }
        });
    }
    try {
        while (!stop.load() && !halt.load()) {
            std::vector<zmq::pollitem_t> items;
            items.push_back({router_.handle(), 0, ZMQ_POLLIN, 0});
            items.push_back({backend_.handle(), 0, ZMQ_POLLIN, 0});
            if (zap_) items.push_back({zap_->socket().handle(), 0, ZMQ_POLLIN, 0});
            try {
                zmq::poll(items, kPollTimeout);
            } catch (const zmq::error_t& e) {
                if (e.num() == EINTR) continue;
                throw;
            }
            // Before the requests: a connecting nginx host's handshake
            // waits on it.
            if (zap_ && (items[2].revents & ZMQ_POLLIN)) zap_->answer_pending();
            if (items[1].revents & ZMQ_POLLIN) forward(backend_, router_, false);
            // Toward the loops, only what one of them can take now: the rest
            // waits in the ROUTER (and then in nginx) instead of being
            // dropped.
            if (items[0].revents & ZMQ_POLLIN) forward(router_, backend_, true);
        }
    } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
    }
    halt = true;
    for (auto& t : threads) t.join();
    kLog.info("stopped");
    if (failure) std::rethrow_exception(failure);
}

}  // namespace enconvert::intake

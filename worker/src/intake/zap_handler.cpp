#include "intake/zap_handler.h"

#include <zmq.h>

#include <array>

#include "log/log.h"

namespace enconvert::intake {

namespace {

constexpr log::Logger kLog{"intake"};
constexpr auto kRefusalLogInterval = std::chrono::minutes(1);

std::string z85(const std::string& binary_key) {
    if (binary_key.size() != 32) return {};
    std::array<char, 41> out{};
    if (zmq_z85_encode(out.data(), reinterpret_cast<const std::uint8_t*>(binary_key.data()),
                       binary_key.size()) == nullptr)
        return {};
    return out.data();
}

std::vector<std::string> reply(const std::string& request_id, bool ok, const char* text) {
    // user id: the key, so the ROUTER's messages could name their sender
    // (ZMQ_MSG_PROPERTY "User-Id"); metadata: none.
    return {"1.0", request_id, ok ? "200" : "400", text, "", ""};
}

}  // namespace

ZapDecision decide_zap(const std::vector<std::string>& request,
                       const std::set<std::string>& allowed_keys) {
    // version, request id, domain, address, routing id, mechanism, credentials...
    ZapDecision d;
    if (request.size() < 6 || request[0] != "1.0") {
        d.reply =
            reply(request.size() > 1 ? request[1] : std::string(), false, "malformed ZAP request");
        return d;
    }
    d.address = request[3];
    if (request[5] != "CURVE" || request.size() != 7) {
        d.reply = reply(request[1], false, "CURVE is required");
        return d;
    }
    d.client_key = z85(request[6]);
    d.allowed = !d.client_key.empty() && allowed_keys.count(d.client_key) == 1;
    d.reply = reply(request[1], d.allowed, d.allowed ? "OK" : "client key not allowed");
    if (d.allowed) d.reply[4] = d.client_key;
    return d;
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::set<std::string> allowed_keys)
    : allowed_(std::move(allowed_keys)), socket_(ctx, zmq::socket_type::rep) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind(kZapEndpoint);
}

void ZapHandler::answer_pending() {
    for (;;) {
        std::vector<std::string> frames;
        zmq::message_t part;
        do {
            if (!socket_.recv(part, zmq::recv_flags::dontwait)) {
                if (frames.empty()) return;
                break;  // REP delivers whole messages: not reached in practice
            }
            frames.push_back(part.to_string());
        } while (socket_.get(zmq::sockopt::rcvmore));

        const ZapDecision d = decide_zap(frames, allowed_);
        if (d.allowed) {
            kLog.debug("nginx host authenticated", {{"address", d.address}, {"key", d.client_key}});
        } else {
            log_refusal(d);
        }
        for (std::size_t i = 0; i < d.reply.size(); ++i) {
            const auto more =
                i + 1 < d.reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
            (void)socket_.send(zmq::buffer(d.reply[i]), more | zmq::send_flags::dontwait);
        }
    }
}

void ZapHandler::log_refusal(const ZapDecision& d) {
    // Public keys only: the secret never leaves the peer.
    const auto now = std::chrono::steady_clock::now();
    auto& last = refused_logged_[d.client_key + "@" + d.address];
    if (last.time_since_epoch().count() != 0 && now - last < kRefusalLogInterval) return;
    last = now;
    if (refused_logged_.size() > 1024) refused_logged_.clear();  // bounded memory
    kLog.warning(
        "refused a peer whose CURVE key is not allowed",
        {{"address", d.address},
         {"key", d.client_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.client_key)}});
}

}  // namespace enconvert::intake

// libzmq's ZAP handler (RFC 27, inproc://zeromq.zap.01) for the intake's
// CURVE ROUTER: a connecting nginx host is let in only if its CURVE public
// key is listed in curve_allowed_clients_file. Without a bound handler
// libzmq would accept every CURVE client, so the intake binds this before
// its ROUTER and polls it in its own loop (one event loop per thread).
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace enconvert::intake {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// The ZAP domain the intake's ROUTER asks about.
inline constexpr const char* kZapDomain = "enconvert";

// The decision for one ZAP request (its frames after the REP envelope):
// the reply frames, and what to log. Pure, for tests.
struct ZapDecision {
    std::vector<std::string> reply;  // version, request id, status code, text, user id, metadata
    bool allowed = false;
    std::string client_key;  // Z85 public key; empty if the request had none
    std::string address;     // the peer's IP address, as libzmq gives it
};
ZapDecision decide_zap(const std::vector<std::string>& request,
                       const std::set<std::string>& allowed_keys);

class ZapHandler {
  public:
    // Binds kZapEndpoint in `ctx` (throws zmq::error_t if another handler
    // holds it). `allowed_keys`: Z85 client public keys.
    ZapHandler(zmq::context_t& ctx, std::set<std::string> allowed_keys);

    zmq::socket_t& socket() { return socket_; }

    // Answers every request waiting on the socket; never blocks.
    void answer_pending();

  private:
    void log_refusal(const ZapDecision& d);

    std::set<std::string> allowed_;
    zmq::socket_t socket_;
    // Last warning per refused key: a misconfigured nginx retries every
    // second from each of its processes; one line a minute says enough.
    std::map<std::string, std::chrono::steady_clock::time_point> refused_logged_;
};

}  // namespace enconvert::intake

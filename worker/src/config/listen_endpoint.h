// The intake's `listen` setting: which transport, and whether a tcp://
// endpoint stays on this host (loopback) or faces a network, where plain
// ZeroMQ would carry API keys in clear text to anyone who connects.
#pragma once

#include <optional>
#include <string>

namespace enconvert::config {

struct ListenEndpoint {
    enum class Transport { ipc, tcp };
    Transport transport = Transport::ipc;
    bool loopback = false;  // tcp: 127.0.0.0/8 or ::1
};

// "ipc://PATH", or "tcp://IP:PORT" with an IPv4 literal, a bracketed IPv6
// literal or `*` (every interface), and a port 1..65535; nullopt otherwise.
std::optional<ListenEndpoint> parse_listen_endpoint(const std::string& text);

}  // namespace enconvert::config

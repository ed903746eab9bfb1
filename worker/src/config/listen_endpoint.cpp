#include "config/listen_endpoint.h"

#include <arpa/inet.h>

#include <cstring>

#include "http/metrics_server.h"

namespace enconvert::config {

namespace {

bool is_loopback(const std::string& ip) {
    in_addr v4{};
    if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6{};
    return inet_pton(AF_INET6, ip.c_str(), &v6) == 1 &&
           std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
}

}  // namespace

std::optional<ListenEndpoint> parse_listen_endpoint(const std::string& text) {
    constexpr std::string_view kIpc = "ipc://";
    constexpr std::string_view kTcp = "tcp://";
    if (text.size() > kIpc.size() && text.compare(0, kIpc.size(), kIpc) == 0) {
        return ListenEndpoint{ListenEndpoint::Transport::ipc, false};
    }
    if (text.compare(0, kTcp.size(), kTcp) != 0) return std::nullopt;
    std::string rest = text.substr(kTcp.size());
    if (rest.rfind("*:", 0) == 0) rest.replace(0, 1, "0.0.0.0");  // same checks as 0.0.0.0
    const auto address = http::parse_listen_address(rest);
    if (!address || address->port == 0) return std::nullopt;
    return ListenEndpoint{ListenEndpoint::Transport::tcp, is_loopback(address->host)};
}

}  // namespace enconvert::config

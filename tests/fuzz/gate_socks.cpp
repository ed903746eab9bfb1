// Fuzzes the renderer's outbound gate (worker/src/render_child/gate/
// outbound_gate.cpp): its SOCKS5 parser as the engine reaches it, over a
// real loopback connection. Each input is what a client sends before it
// half-closes; the harness reads until the gate closes.
//
// The harness moves itself into a network namespace of its own (root, or
// an unprivileged user namespace) with only the loopback interface up, so
// no input makes the gate reach a real network or name server: public
// addresses are unreachable at once, names do not resolve, loopback and
// private addresses are refused by the address policy.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "render_child/gate/outbound_gate.h"

namespace {

std::unique_ptr<enconvert::render_child::OutboundGate> gate;

bool loopback_up() {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    if (ok && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        ok = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    }
    close(fd);
    return ok;
}

void isolate_network() {
    if (unshare(CLONE_NEWNET) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
        std::fprintf(stderr,
                     "gate_socks: no network namespace (%s): public addresses "
                     "and names in inputs reach the real network\n",
                     std::strerror(errno));
        return;
    }
    if (!loopback_up()) {
        std::fprintf(stderr, "gate_socks: cannot bring up lo in the namespace\n");
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    isolate_network();
    gate = std::make_unique<enconvert::render_child::OutboundGate>(enconvert::net::AddressPolicy{});
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(gate->port()));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
    // The gate may close before it has read everything: fine.
    std::size_t sent = 0;
    while (sent < size) {
        const ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    shutdown(fd, SHUT_WR);
    char buffer[512];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        // A gate that neither answers nor closes within 5 s is a hang.
        if (poll(&p, 1, 5000) <= 0) {
            std::fprintf(stderr, "gate_socks: the gate did not close the connection\n");
            std::abort();
        }
        if (read(fd, buffer, sizeof buffer) <= 0) break;
    }
    close(fd);
    return 0;
}

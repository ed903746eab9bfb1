// The renderer's outbound gate (docs/api.md "Outbound safety"): a SOCKS5 server on
// 127.0.0.1 that the child's WebKit network process is configured to use as
// its proxy for every connection (main document, redirects, sub-resources,
// web sockets). The engine hands it host names unresolved; the gate
// resolves each once, keeps the first address the AddressPolicy allows and
// connects to that address only, so a second DNS answer cannot reach an
// internal address (no rebinding). Refused destinations are answered with
// SOCKS reply codes and remembered, so a failed page load can be reported
// precisely (blocked address, DNS failure, connection failure).
//
// The gate runs its own GLib main context on its own thread: relaying bytes
// must not wait while the renderer's main loop prints or post-processes.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "net/address_policy.h"

namespace enconvert::render_child {

struct GateRefusal {
    enum class Kind { blocked_address, not_found, connect_failed };
    Kind kind = Kind::connect_failed;
    std::string host;     // as the engine asked for it (a name or an address)
    std::string address;  // the refused or unreachable address, if any
    std::string detail;   // the resolver's or connect's error text
    gint64 at_us = 0;     // g_get_monotonic_time()
};

class OutboundGate {
  public:
    // Listens on 127.0.0.1 (a free port) and starts the gate's thread.
    // Throws std::runtime_error when it cannot listen.
    explicit OutboundGate(net::AddressPolicy policy);
    ~OutboundGate();
    OutboundGate(const OutboundGate&) = delete;
    OutboundGate& operator=(const OutboundGate&) = delete;

    int port() const { return port_; }
    std::string proxy_uri() const { return "socks5://127.0.0.1:" + std::to_string(port_); }

    // The newest refusal for `host` (a name, or an address without brackets)
    // recorded at or after `since_us`.
    std::optional<GateRefusal> refusal_for(const std::string& host, gint64 since_us) const;

    // Used by the gate's sessions (outbound_gate.cpp), on the gate thread.
    const net::AddressPolicy& policy() const { return policy_; }
    GSocketClient* socket_client() const { return client_; }
    GCancellable* cancellable() const { return cancellable_; }
    void record(GateRefusal refusal);

  private:
    struct ContextUnref {
        void operator()(GMainContext* c) const { g_main_context_unref(c); }
    };
    struct LoopUnref {
        void operator()(GMainLoop* l) const { g_main_loop_unref(l); }
    };

    // The gate thread: listens, reports the port (or the error), runs the
    // loop until the destructor quits it.
    void run(std::promise<int>& listening);
    static gboolean on_incoming(GSocketService*, GSocketConnection*, GObject*, gpointer);

    const net::AddressPolicy policy_;
    std::unique_ptr<GMainContext, ContextUnref> context_;
    std::unique_ptr<GMainLoop, LoopUnref> loop_;
    // Created and used on the gate thread only; released there at its end.
    GSocketClient* client_ = nullptr;
    GCancellable* cancellable_ = nullptr;
    int port_ = 0;
    std::thread thread_;

    mutable std::mutex refusals_mutex_;
    std::deque<GateRefusal> refusals_;  // newest last, bounded
};

}  // namespace enconvert::render_child

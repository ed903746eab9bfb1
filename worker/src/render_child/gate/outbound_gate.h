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
//
// Each view has a port of its own: its connections are counted against its
// own limit (a page opening hundreds of web sockets used up the child's
// file descriptors, and every other view's files and connections failed)
// and its refusals explain its own loads only.
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
#include <vector>

#include "net/address_policy.h"

namespace enconvert::render_child {

struct GateRefusal {
    enum class Kind { blocked_address, not_found, connect_failed };
    Kind kind = Kind::connect_failed;
    std::string host;     // as the engine asked for it (a name or an address)
    std::string address;  // the refused or unreachable address, if any
    std::string detail;   // the resolver's or connect's error text
    gint64 at_us = 0;     // g_get_monotonic_time()
    int view = 0;         // whose port the connection came in on
};

struct GateLimits {
    int views = 1;  // one port each
    // Connections of one view open at once (being set up or relayed); more
    // are closed as they come. Browsers keep 256 per pool.
    int max_connections_per_view = 256;
    // How long a connection to a server may take to be made, all of the
    // name's addresses tried included. Once made, a relayed connection has
    // no idle limit of its own: the job's timeout and the view's reset end
    // it.
    int connect_timeout_seconds = 30;
};

class OutboundGate {
  public:
    // Listens on 127.0.0.1 (a free port per view) and starts the gate's
    // thread. Throws std::runtime_error when it cannot listen.
    explicit OutboundGate(net::AddressPolicy policy, GateLimits limits = {});
    ~OutboundGate();
    OutboundGate(const OutboundGate&) = delete;
    OutboundGate& operator=(const OutboundGate&) = delete;

    int port(int view = 0) const { return ports_.at(static_cast<std::size_t>(view)); }
    std::string proxy_uri(int view) const {
        return "socks5://127.0.0.1:" + std::to_string(port(view));
    }

    // The newest refusal of `view`'s connections for `host` (a name, or an
    // address without brackets) recorded at or after `since_us`.
    std::optional<GateRefusal> refusal_for(int view, const std::string& host,
                                           gint64 since_us) const;

    // Used by the gate's sessions (outbound_gate.cpp), on the gate thread.
    const net::AddressPolicy& policy() const { return policy_; }
    int connect_timeout_seconds() const { return limits_.connect_timeout_seconds; }
    GCancellable* cancellable() const { return cancellable_; }
    void record(GateRefusal refusal);
    // A connection of `view` begins (false: the view is at its limit) or
    // ends; gate thread only.
    bool open_connection(int view);
    void close_connection(int view);

  private:
    struct ContextUnref {
        void operator()(GMainContext* c) const { g_main_context_unref(c); }
    };
    struct LoopUnref {
        void operator()(GMainLoop* l) const { g_main_loop_unref(l); }
    };

    // The gate thread: listens, fills ports_ (or reports the error), runs the
    // loop until the destructor quits it.
    void run(std::promise<void>& listening);
    static gboolean on_incoming(GSocketService*, GSocketConnection*, GObject*, gpointer);

    const net::AddressPolicy policy_;
    std::unique_ptr<GMainContext, ContextUnref> context_;
    std::unique_ptr<GMainLoop, LoopUnref> loop_;
    // Created and used on the gate thread only; released there at its end.
    GCancellable* cancellable_ = nullptr;
    const GateLimits limits_;
    std::vector<int> ports_;        // by view
    std::vector<int> connections_;  // open, by view; gate thread only
    std::thread thread_;

    mutable std::mutex refusals_mutex_;
    std::vector<std::deque<GateRefusal>> refusals_;  // by view, newest last, bounded
};

}  // namespace enconvert::render_child

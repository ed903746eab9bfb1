#include "render_child/gate/outbound_gate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "net/restricted_ports.h"
#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

namespace {

// RFC 1928 values.
constexpr guint8 kVersion = 5;
constexpr guint8 kNoAuthentication = 0;
constexpr guint8 kNoAcceptableMethod = 0xff;
constexpr guint8 kConnect = 1;
constexpr guint8 kIpv4 = 1, kDomain = 3, kIpv6 = 4;
enum Reply : guint8 {
    kSucceeded = 0,
    kGeneralFailure = 1,
    kNotAllowed = 2,
    kHostUnreachable = 4,
    kConnectionRefused = 5,
    kCommandNotSupported = 7,
    kAddressTypeNotSupported = 8,
};

constexpr std::size_t kRefusalsKept = 256;  // a view
// A name's allowed addresses tried at most, all within one connect bound:
// a page's name answered with hundreds of addresses that drop packets held
// its connection, and a slot of its view's, for 30 s each.
constexpr std::size_t kMaxAddressesTried = 8;

net::IpAddress to_ip(GInetAddress* address) {
    net::IpAddress ip;
    ip.v6 = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6;
    std::memcpy(ip.bytes.data(), g_inet_address_to_bytes(address),
                g_inet_address_get_native_size(address));
    return ip;
}

std::string text_of(GInetAddress* address) {
    GCharPtr text(g_inet_address_to_string(address));
    return text.get();
}

// One proxied connection: the SOCKS exchange, then the relay. Owned by
// whichever asynchronous step is pending (each callback adopts it).
// Made only once the gate counted it (OutboundGate::open_connection).
struct Session {
    Session(OutboundGate& g, int v, GSocketConnection* c)
        : gate(g), view(v), client(G_SOCKET_CONNECTION(g_object_ref(c))) {}
    ~Session() { gate.close_connection(view); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    OutboundGate& gate;
    const int view;
    GObjectPtr<GSocketConnection> client;
    GObjectPtr<GSocketConnection> upstream;
    std::array<guint8, 512> buffer{};
    std::string host;  // as asked for
    guint16 port = 0;
    // The allowed addresses of the host, tried in order until one answers
    // or connect_deadline_us; `address` is the one being tried.
    std::vector<GObjectPtr<GInetAddress>> candidates;
    std::size_t next_candidate = 0;
    GInetAddress* address = nullptr;
    gint64 connect_deadline_us = 0;

    GInputStream* in() { return g_io_stream_get_input_stream(G_IO_STREAM(client.get())); }
    GOutputStream* out() { return g_io_stream_get_output_stream(G_IO_STREAM(client.get())); }
};
using SessionPtr = std::unique_ptr<Session>;

void read_greeting(SessionPtr s);
void on_greeting(GObject*, GAsyncResult*, gpointer);
void on_methods(GObject*, GAsyncResult*, gpointer);
void on_method_sent(GObject*, GAsyncResult*, gpointer);
void on_request_head(GObject*, GAsyncResult*, gpointer);
void on_domain_length(GObject*, GAsyncResult*, gpointer);
void on_destination(GObject*, GAsyncResult*, gpointer);
void on_resolved(GObject*, GAsyncResult*, gpointer);
void on_connected(GObject*, GAsyncResult*, gpointer);
void on_reply_sent(GObject*, GAsyncResult*, gpointer);
void on_refusal_sent(GObject*, GAsyncResult*, gpointer);
void on_spliced(GObject*, GAsyncResult*, gpointer);
void check_and_connect(SessionPtr s, GList* addresses);
void connect_next(SessionPtr s);

// Reads exactly `count` bytes into the buffer at `offset`, then `next`.
void read_exactly(SessionPtr s, std::size_t offset, std::size_t count, GAsyncReadyCallback next) {
    Session* raw = s.get();
    g_input_stream_read_all_async(raw->in(), raw->buffer.data() + offset, count, G_PRIORITY_DEFAULT,
                                  raw->gate.cancellable(), next, s.release());
}

// Finishes a read_exactly of `count` bytes; false on error or early EOF.
bool read_done(GObject* source, GAsyncResult* result, std::size_t count) {
    gsize got = 0;
    const gboolean ok =
        g_input_stream_read_all_finish(G_INPUT_STREAM(source), result, &got, nullptr);
    return ok && got == count;
}

// Checks `address` (an address the client sent, not a name) and connects.
void check_and_connect_to(SessionPtr s, GInetAddress* address) {
    GList one{address, nullptr, nullptr};
    check_and_connect(std::move(s), &one);
}

void write_then(SessionPtr s, const guint8* bytes, std::size_t count, GAsyncReadyCallback next) {
    Session* raw = s.get();
    if (bytes != raw->buffer.data()) std::memcpy(raw->buffer.data(), bytes, count);
    g_output_stream_write_all_async(raw->out(), raw->buffer.data(), count, G_PRIORITY_DEFAULT,
                                    raw->gate.cancellable(), next, s.release());
}

void send_reply(SessionPtr s, guint8 code, GAsyncReadyCallback next) {
    const guint8 reply[10] = {kVersion, code, 0, kIpv4, 0, 0, 0, 0, 0, 0};
    write_then(std::move(s), reply, sizeof reply, next);
}

// Answers with `code` and closes; remembers why when there is a reason.
void refuse(SessionPtr s, guint8 code, std::optional<GateRefusal> why = std::nullopt) {
    if (why) {
        why->view = s->view;
        why->host = s->host;
        why->at_us = g_get_monotonic_time();
        s->gate.record(std::move(*why));
    }
    send_reply(std::move(s), code, &on_refusal_sent);
}

// Connects to the addresses the policy allows, in the resolver's order,
// the next one when one does not answer (a host with one address down);
// refuses when there is none.
void check_and_connect(SessionPtr s, GList* addresses) {
    std::string denied;
    for (GList* item = addresses; item; item = item->next) {
        auto* address = G_INET_ADDRESS(item->data);
        if (s->gate.policy().allowed(to_ip(address))) {
            if (s->candidates.size() < kMaxAddressesTried)
                s->candidates.emplace_back(G_INET_ADDRESS(g_object_ref(address)));
        } else if (denied.empty()) {
            denied = text_of(address);
        }
    }
    if (s->candidates.empty())
        return refuse(std::move(s), kNotAllowed,
                      GateRefusal{GateRefusal::Kind::blocked_address, {}, denied, {}, 0});
    connect_next(std::move(s));
}

// Each address but the last gets half of the time left (as curl does):
// one that drops packets leaves the next one time to answer.
void connect_next(SessionPtr s) {
    const gint64 now = g_get_monotonic_time();
    if (s->next_candidate == 0)
        s->connect_deadline_us = now + gint64{s->gate.connect_timeout_seconds()} * G_USEC_PER_SEC;
    const gint64 left_us = std::max<gint64>(0, s->connect_deadline_us - now);
    const bool last = s->next_candidate + 1 == s->candidates.size();
    const gint64 timeout_s = (last ? left_us : left_us / 2) / G_USEC_PER_SEC;
    s->address = s->candidates[s->next_candidate++].get();
    GObjectPtr<GSocketClient> client(g_socket_client_new());
    // The gate is the proxy: it must never itself go through one.
    g_socket_client_set_enable_proxy(client.get(), FALSE);
    g_socket_client_set_timeout(client.get(), static_cast<guint>(std::max<gint64>(1, timeout_s)));
    GObjectPtr<GSocketAddress> target(g_inet_socket_address_new(s->address, s->port));
    Session* session = s.get();
    g_socket_client_connect_async(client.get(), G_SOCKET_CONNECTABLE(target.get()),
                                  session->gate.cancellable(), &on_connected, s.release());
}

void read_greeting(SessionPtr s) {
    read_exactly(std::move(s), 0, 2, &on_greeting);
}

void on_greeting(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    if (!read_done(source, result, 2) || s->buffer[0] != kVersion || s->buffer[1] == 0) return;
    const std::size_t methods = s->buffer[1];
    read_exactly(std::move(s), 2, methods, &on_methods);  // after VER NMETHODS
}

void on_methods(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    const std::size_t methods = s->buffer[1];
    if (!read_done(source, result, methods)) return;
    const bool no_auth_offered =
        std::memchr(s->buffer.data() + 2, kNoAuthentication, methods) != nullptr;
    const guint8 answer[2] = {kVersion, no_auth_offered ? kNoAuthentication : kNoAcceptableMethod};
    if (!no_auth_offered) {
        write_then(std::move(s), answer, sizeof answer, &on_refusal_sent);
        return;
    }
    write_then(std::move(s), answer, sizeof answer, &on_method_sent);
}

void on_method_sent(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, nullptr))
        return;
    read_exactly(std::move(s), 0, 4, &on_request_head);  // VER CMD RSV ATYP
}

void on_request_head(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    if (!read_done(source, result, 4) || s->buffer[0] != kVersion) return;
    if (s->buffer[1] != kConnect) return refuse(std::move(s), kCommandNotSupported);
    switch (s->buffer[3]) {
        case kIpv4:
            return read_exactly(std::move(s), 4, 4 + 2, &on_destination);
        case kIpv6:
            return read_exactly(std::move(s), 4, 16 + 2, &on_destination);
        case kDomain:
            return read_exactly(std::move(s), 4, 1, &on_domain_length);
        default:
            return refuse(std::move(s), kAddressTypeNotSupported);
    }
}

void on_domain_length(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    if (!read_done(source, result, 1) || s->buffer[4] == 0) return;
    const std::size_t length = s->buffer[4];
    read_exactly(std::move(s), 5, length + 2, &on_destination);
}

void on_destination(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    const guint8 type = s->buffer[3];
    const std::size_t address_size = type == kIpv4   ? 4
                                     : type == kIpv6 ? 16
                                                     : std::size_t{s->buffer[4]};
    if (!read_done(source, result, address_size + 2)) return;
    const std::size_t port_at = (type == kDomain ? 5 : 4) + address_size;
    s->port = static_cast<guint16>(s->buffer[port_at] << 8 | s->buffer[port_at + 1]);
    // The ports browsers never connect to (SMTP, IRC, …): WebKit checks them
    // in the web process, which a page that took it over would skip, and its
    // network process's preconnects may not; checked here for every
    // connection of every page.
    if (s->port == 0 || net::is_restricted_port(s->port)) return refuse(std::move(s), kNotAllowed);
    if (type != kDomain) {
        GObjectPtr<GInetAddress> literal(g_inet_address_new_from_bytes(
            s->buffer.data() + 4, type == kIpv4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6));
        s->host = text_of(literal.get());
        return check_and_connect_to(std::move(s), literal.get());
    }
    s->host.assign(reinterpret_cast<const char*>(s->buffer.data() + 5), address_size);
    if (s->host.find('\0') != std::string::npos) return refuse(std::move(s), kGeneralFailure);
    // The shorthand IPv4 forms browsers and inet_aton accept (2130706433,
    // 0x7f.1, 0177.0.0.1, 127.1) are addresses, not names: checked as such.
    if (in_addr v4{}; inet_aton(s->host.c_str(), &v4) != 0) {
        GObjectPtr<GInetAddress> literal(g_inet_address_new_from_bytes(
            reinterpret_cast<const guint8*>(&v4.s_addr), G_SOCKET_FAMILY_IPV4));
        return check_and_connect_to(std::move(s), literal.get());
    }
    GObjectPtr<GResolver> resolver(g_resolver_get_default());
    Session* raw = s.get();
    g_resolver_lookup_by_name_async(resolver.get(), raw->host.c_str(), raw->gate.cancellable(),
                                    &on_resolved, s.release());
}

void on_resolved(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    GError* raw_error = nullptr;
    GList* addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &raw_error);
    GErrorPtr error(raw_error);
    if (!addresses) {
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;
        GateRefusal why{
            GateRefusal::Kind::not_found, {}, {}, error ? error->message : "no address", 0};
        return refuse(std::move(s), kHostUnreachable, std::move(why));
    }
    check_and_connect(std::move(s), addresses);
    g_resolver_free_addresses(addresses);
}

void on_connected(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    GError* raw_error = nullptr;
    GSocketConnection* upstream =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &raw_error);
    GErrorPtr error(raw_error);
    if (!upstream) {
        if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;
        if (s->next_candidate < s->candidates.size() &&
            g_get_monotonic_time() < s->connect_deadline_us)
            return connect_next(std::move(s));
        const bool refused =
            g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
        // The detail reaches the client: say what happened, not GIO's
        // sentence, which can name the address the host resolved to.
        const char* detail = refused ? "connection refused"
                             : g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
                                 ? "timed out"
                                 : "unreachable";
        GateRefusal why{GateRefusal::Kind::connect_failed, {}, text_of(s->address), detail, 0};
        return refuse(std::move(s), refused ? kConnectionRefused : kHostUnreachable,
                      std::move(why));
    }
    s->upstream.reset(upstream);
    // The client's timeout is the socket's I/O timeout too: a server quiet
    // for that long (a slow first byte under a job timeout of minutes, a
    // web socket between messages) had its connection cut. Only the
    // connect is bounded.
    g_socket_set_timeout(g_socket_connection_get_socket(upstream), 0);
    send_reply(std::move(s), kSucceeded, &on_reply_sent);
}

void on_reply_sent(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, nullptr))
        return;
    Session* raw = s.get();
    // When either side ends, both close: a response delimited by the
    // server closing must reach the engine as its end (no half-close).
    g_io_stream_splice_async(G_IO_STREAM(raw->client.get()), G_IO_STREAM(raw->upstream.get()),
                             static_cast<GIOStreamSpliceFlags>(G_IO_STREAM_SPLICE_CLOSE_STREAM1 |
                                                               G_IO_STREAM_SPLICE_CLOSE_STREAM2),
                             G_PRIORITY_DEFAULT, raw->gate.cancellable(), &on_spliced, s.release());
}

void on_refusal_sent(GObject* source, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));  // closes the connection
    g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, nullptr);
}

void on_spliced(GObject*, GAsyncResult* result, gpointer data) {
    SessionPtr s(static_cast<Session*>(data));
    g_io_stream_splice_finish(result, nullptr);
}

}  // namespace

OutboundGate::OutboundGate(net::AddressPolicy policy, GateLimits limits)
    : policy_(std::move(policy)),
      context_(g_main_context_new()),
      loop_(g_main_loop_new(context_.get(), FALSE)),
      limits_(limits),
      connections_(static_cast<std::size_t>(std::max(1, limits.views)), 0),
      refusals_(connections_.size()) {
    std::promise<void> listening;
    std::future<void> listening_done = listening.get_future();
    thread_ = std::thread([this, &listening] { run(listening); });
    try {
        listening_done.get();  // ports_ is filled
    } catch (...) {
        thread_.join();
        throw;
    }
}

OutboundGate::~OutboundGate() {
    // Quit from inside the loop: a g_main_loop_quit that ran before the
    // thread entered g_main_loop_run would be forgotten.
    GSource* quit = g_idle_source_new();
    g_source_set_callback(
        quit,
        +[](gpointer loop) -> gboolean {
            g_main_loop_quit(static_cast<GMainLoop*>(loop));
            return G_SOURCE_REMOVE;
        },
        loop_.get(), nullptr);
    g_source_attach(quit, context_.get());
    g_source_unref(quit);
    thread_.join();
}

void OutboundGate::run(std::promise<void>& listening) {
    g_main_context_push_thread_default(context_.get());
    GObjectPtr<GSocketService> service(g_socket_service_new());
    // A new service is already active: each listener added to it cancels
    // its pending accept to start a new one over all of them, and a
    // connection accepted in that window was dropped by the cancelled task
    // (a reset the gate never saw). Inactive until every port is added.
    g_socket_service_stop(service.get());
    std::vector<int> ports;
    for (std::size_t view = 0; view < connections_.size(); ++view) {
        GObjectPtr<GSocketAddress> any_port(g_inet_socket_address_new_from_string("127.0.0.1", 0));
        GSocketAddress* bound = nullptr;
        GError* raw_error = nullptr;
        if (!g_socket_listener_add_address(G_SOCKET_LISTENER(service.get()), any_port.get(),
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr,
                                           &bound, &raw_error)) {
            GErrorPtr error(raw_error);
            g_socket_listener_close(G_SOCKET_LISTENER(service.get()));
            g_main_context_pop_thread_default(context_.get());
            listening.set_exception(std::make_exception_ptr(std::runtime_error(
                std::string("outbound gate: cannot listen on 127.0.0.1: ") + error->message)));
            return;
        }
        GObjectPtr<GSocketAddress> bound_address(bound);
        ports.push_back(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound_address.get())));
    }
    GObjectPtr<GCancellable> cancellable(g_cancellable_new());
    cancellable_ = cancellable.get();
    // Before the service starts: its handler reads them on this thread, the
    // constructor's caller once set_value has published them.
    ports_ = std::move(ports);
    g_signal_connect(service.get(), "incoming", G_CALLBACK(&OutboundGate::on_incoming), this);
    g_socket_service_start(service.get());
    listening.set_value();

    g_main_loop_run(loop_.get());

    g_socket_service_stop(service.get());
    g_socket_listener_close(G_SOCKET_LISTENER(service.get()));
    // Let every pending session see the cancellation and free itself.
    g_cancellable_cancel(cancellable.get());
    while (g_main_context_iteration(context_.get(), FALSE)) {
    }
    cancellable_ = nullptr;
    g_main_context_pop_thread_default(context_.get());
}

gboolean OutboundGate::on_incoming(GSocketService*, GSocketConnection* connection, GObject*,
                                   gpointer data) {
    auto* gate = static_cast<OutboundGate*>(data);
    // Which view's port it came in on.
    GObjectPtr<GSocketAddress> local(g_socket_connection_get_local_address(connection, nullptr));
    const int port = local ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get())) : 0;
    const auto it = std::find(gate->ports_.begin(), gate->ports_.end(), port);
    if (it == gate->ports_.end()) return TRUE;
    const int view = static_cast<int>(it - gate->ports_.begin());
    // Past the view's limit the connection is not kept: the service lets go
    // of it after this handler, which closes it.
    if (!gate->open_connection(view)) return TRUE;
    read_greeting(std::make_unique<Session>(*gate, view, connection));
    return TRUE;
}

bool OutboundGate::open_connection(int view) {
    int& open = connections_[static_cast<std::size_t>(view)];
    if (open >= limits_.max_connections_per_view) return false;
    ++open;
    return true;
}

void OutboundGate::close_connection(int view) {
    --connections_[static_cast<std::size_t>(view)];
}

void OutboundGate::record(GateRefusal refusal) {
    std::lock_guard lock(refusals_mutex_);
    std::deque<GateRefusal>& view = refusals_.at(static_cast<std::size_t>(refusal.view));
    view.push_back(std::move(refusal));
    if (view.size() > kRefusalsKept) view.pop_front();
}

std::optional<GateRefusal> OutboundGate::refusal_for(int view, const std::string& host,
                                                     gint64 since_us) const {
    std::lock_guard lock(refusals_mutex_);
    const std::deque<GateRefusal>& kept = refusals_.at(static_cast<std::size_t>(view));
    for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
        if (it->at_us < since_us) break;
        if (it->host == host) return *it;
    }
    return std::nullopt;
}

}  // namespace enconvert::render_child

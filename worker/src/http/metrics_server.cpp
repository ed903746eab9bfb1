#include "http/metrics_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <utility>

#include "db/job_repository.h"
#include "db/reconnecting_session.h"
#include "log/log.h"
#include "metrics/worker_metrics.h"

namespace enconvert::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr log::Logger kLog{"metrics"};
constexpr auto kPollInterval = std::chrono::milliseconds(250);
// A scraper gets this long to send its request and read the answer.
constexpr auto kConnectionTimeout = std::chrono::seconds(10);
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// One scrape connection: read a request, answer, close (no keep-alive: a
// scraper every 15 s does not need it, and it bounds what one peer holds).
class Connection : public std::enable_shared_from_this<Connection> {
  public:
    using Render = std::function<std::string()>;
    Connection(tcp::socket socket, Render render)
        : stream_(std::move(socket)), render_(std::move(render)) {}

    void start() {
        stream_.expires_after(kConnectionTimeout);
        bhttp::async_read(stream_, buffer_, request_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->answer();
                          });
    }

  private:
    void answer() {
        auto response = std::make_shared<bhttp::response<bhttp::string_body>>();
        response->version(request_.version());
        response->keep_alive(false);
        const bool get = request_.method() == bhttp::verb::get;
        const bool head = request_.method() == bhttp::verb::head;
        const auto target = request_.target();
        const auto path = target.substr(0, target.find('?'));
        if (!get && !head) {
            response->result(bhttp::status::method_not_allowed);
            response->set(bhttp::field::allow, "GET, HEAD");
            response->set(bhttp::field::content_type, "text/plain; charset=utf-8");
            response->body() = "method not allowed\n";
        } else if (path != "/metrics") {
            response->result(bhttp::status::not_found);
            response->set(bhttp::field::content_type, "text/plain; charset=utf-8");
            response->body() = "not found; metrics are at /metrics\n";
        } else {
            response->result(bhttp::status::ok);
            response->set(bhttp::field::content_type, kContentType);
            response->body() = render_();
        }
        response->prepare_payload();
        if (head) response->body().clear();  // Content-Length stays the GET's
        bhttp::async_write(stream_, *response,
                           [self = shared_from_this(), response](beast::error_code, std::size_t) {
                               beast::error_code ignored;
                               self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                           });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> request_;
    Render render_;
};

}  // namespace

std::optional<ListenAddress> parse_listen_address(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) return std::nullopt;
    std::string host = text.substr(0, colon);
    const std::string port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string::npos)
        return std::nullopt;  // IPv6 needs brackets
    beast::error_code ec;
    asio::ip::make_address(host, ec);
    if (ec) return std::nullopt;
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const unsigned long port = std::stoul(port_text);
    if (port > 65535) return std::nullopt;
    return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

struct MetricsServer::Impl {
    asio::io_context io;
    tcp::acceptor acceptor;
    db::ReconnectingSession session;

    Impl(const ListenAddress& address, std::string database_url)
        : io(1),
          acceptor(io, tcp::endpoint(asio::ip::make_address(address.host), address.port)),
          session(std::move(database_url), {}, "metrics") {}

    std::string render() {
        std::optional<metrics::QueueSnapshot> queue;
        session.ensure();
        if (session) {
            try {
                const db::TaskCounts counts = db::count_unfinished_tasks(session->conn());
                queue = metrics::QueueSnapshot{counts.pending, counts.processing};
            } catch (const pqxx::broken_connection&) {
                session.drop("while counting tasks");
            } catch (const std::exception& e) {
                kLog.warning("counting tasks failed", {{"error", e.what()}});
                metrics::worker_metrics().database_error("metrics");
            }
        }
        return metrics::worker_metrics().render(queue);
    }

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (!ec)
                std::make_shared<Connection>(std::move(socket), [this] {
                    return render();
                })->start();
            if (ec != asio::error::operation_aborted) accept();
        });
    }
};

MetricsServer::MetricsServer(const ListenAddress& address, std::string database_url) {
    try {
        impl_ = std::make_unique<Impl>(address, std::move(database_url));
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot listen on metrics_listen " + address.host + ":" +
                                 std::to_string(address.port) + ": " + e.code().message());
    }
    kLog.info("serving /metrics", {{"address", address.host}, {"port", port()}});
}

MetricsServer::~MetricsServer() = default;

std::uint16_t MetricsServer::port() const {
    return impl_->acceptor.local_endpoint().port();
}

void MetricsServer::run(const std::atomic<bool>& stop) {
    impl_->accept();
    while (!stop.load()) {
        impl_->io.run_for(kPollInterval);
        if (impl_->io.stopped()) impl_->io.restart();
    }
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.run_for(kPollInterval);  // let open answers finish or abort
}

}  // namespace enconvert::http

// Serves GET /metrics (Prometheus text) on the configured address, from its
// own thread and event loop, so a slow scraper never touches the intake or
// the scheduler. Task counts are read from the database at each scrape
// through a connection of this thread's own.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace enconvert::http {

struct ListenAddress {
    std::string host;  // an IP address literal
    std::uint16_t port = 0;
};

// "127.0.0.1:9469" or "[::1]:9469"; nullopt when malformed (the host must
// be an IP address: the endpoint is meant for loopback or a private
// network, never a name that resolves differently later).
std::optional<ListenAddress> parse_listen_address(const std::string& text);

class MetricsServer {
  public:
    // Binds at once (throws std::system_error if the address is taken), so
    // a wrong setting is reported at start-up.
    MetricsServer(const ListenAddress& address, std::string database_url);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // The port actually bound (the configured one, or the kernel's pick for 0).
    std::uint16_t port() const;

    // Serves until `stop` is set (checked at least every 250 ms).
    void run(const std::atomic<bool>& stop);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace enconvert::http

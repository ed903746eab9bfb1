// A relay between a test's code and its PostgreSQL cluster (Unix sockets)
// that cuts one connection right after the server has executed a COMMIT,
// before its answer reaches the client: the commit happened, the client
// sees a lost connection (pqxx::in_doubt_error). A trigger cannot do that
// (ending the backend inside the commit aborts it). The cut is armed by the
// first client message containing `marker` (a statement of the transaction
// to cut) and fires at that connection's next COMMIT; everything else is
// relayed as is.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "util/ids.h"

namespace enconvert::test_support {

class CommitCutter {
  public:
    // `cluster_url`: "host=<socket dir> port=<n> ..." (PgCluster::url()).
    CommitCutter(const std::string& cluster_url, std::string marker)
        : marker_(std::move(marker)),
          dir_(std::filesystem::temp_directory_path() / ("enc-cut-" + util::random_hex(6))) {
        const std::string host = field(cluster_url, "host");
        port_ = field(cluster_url, "port");
        rest_ = cluster_url.substr(cluster_url.find("user="));
        server_path_ = host + "/.s.PGSQL." + port_;
        std::filesystem::create_directories(dir_);
        listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_un addr = address((dir_ / (".s.PGSQL." + port_)).string());
        if (bind(listener_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(listener_, 16) != 0) {
            throw std::runtime_error("commit cutter: cannot listen");
        }
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~CommitCutter() {
        stop_ = true;
        shutdown(listener_, SHUT_RDWR);
        close(listener_);
        acceptor_.join();
        for (auto& t : relays_) t.join();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // The URL to connect through the relay.
    std::string url() const { return "host=" + dir_.string() + " port=" + port_ + " " + rest_; }
    bool cut() const { return cut_; }

  private:
    static std::string field(const std::string& url, const std::string& name) {
        const auto at = url.find(name + "=");
        if (at == std::string::npos) throw std::runtime_error("commit cutter: no " + name);
        const auto start = at + name.size() + 1;
        return url.substr(start, url.find(' ', start) - start);
    }
    static sockaddr_un address(const std::string& path) {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        return a;
    }

    void accept_loop() {
        while (!stop_) {
            const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) return;
            const int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const sockaddr_un addr = address(server_path_);
            if (connect(server, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
                close(client);
                close(server);
                continue;
            }
            relays_.emplace_back([this, client, server] { relay(client, server); });
        }
    }

    void relay(int client, int server) {
        bool armed = false;
        bool cutting = false;  // the COMMIT went to the server: drop its answer
        std::vector<char> buf(64 * 1024);
        pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        while (!stop_) {
            if (poll(fds, 2, 100) < 0) break;
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                const ssize_t n = read(client, buf.data(), buf.size());
                if (n <= 0) break;
                const std::string chunk(buf.data(), static_cast<std::size_t>(n));
                if (!cut_ && chunk.find(marker_) != std::string::npos) armed = true;
                if (armed && !cut_ && chunk.find(std::string("COMMIT\0", 7)) != std::string::npos)
                    cutting = true;
                if (write(server, buf.data(), static_cast<std::size_t>(n)) != n) break;
            }
            if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                const ssize_t n = read(server, buf.data(), buf.size());
                if (n <= 0) break;
                if (cutting) {  // the server has answered the COMMIT: it is done
                    cut_ = true;
                    break;
                }
                if (write(client, buf.data(), static_cast<std::size_t>(n)) != n) break;
            }
        }
        close(client);
        close(server);
    }

    const std::string marker_;
    const std::filesystem::path dir_;
    std::string port_, rest_, server_path_;
    int listener_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<bool> cut_{false};
    std::thread acceptor_;
    std::vector<std::thread> relays_;
};

}  // namespace enconvert::test_support

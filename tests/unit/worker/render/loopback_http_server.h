// A tiny HTTP/1.0 server on a loopback address (127.0.0.1 unless told) for
// the renderer and gate tests: fixed routes, one accept thread, a route that
// accepts and never answers (to test load timeouts), a count of requests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace enconvert::render::testing {

class LoopbackHttpServer {
  public:
    struct Response {
        int status = 200;
        std::string content_type = "text/html; charset=utf-8";
        std::string body;
        int delay_ms = 0;          // answer this late (blocks the one server thread)
        std::string headers = {};  // extra header lines, each ending in \r\n
    };

    // `routes` maps a path to its response; `hang_path` is never answered.
    // `address`: any of 127.0.0.0/8 (all of it reaches lo).
    LoopbackHttpServer(std::map<std::string, Response> routes, std::string hang_path,
                       std::string address = "127.0.0.1")
        : routes_(std::move(routes)),
          hang_path_(std::move(hang_path)),
          address_(std::move(address)) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = 0;  // any free port
        if (inet_pton(AF_INET, address_.c_str(), &addr.sin_addr) != 1 ||
            bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(listen_fd_, 64) != 0)
            throw std::runtime_error("cannot listen on " + address_);
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        if (pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        thread_ = std::thread([this] { serve(); });
    }

    ~LoopbackHttpServer() {
        (void)!write(stop_pipe_[1], "x", 1);
        thread_.join();
        for (int fd : hung_) close(fd);
        close(listen_fd_);
        close(stop_pipe_[0]);
        close(stop_pipe_[1]);
    }

    int port() const { return port_; }
    // Requests read so far (any path).
    int requests() const { return requests_.load(); }
    int requests(const std::string& path) const {
        std::lock_guard lock(paths_mutex_);
        auto it = path_requests_.find(path);
        return it == path_requests_.end() ? 0 : it->second;
    }
    std::string url(const std::string& path) const {
        return "http://" + address_ + ":" + std::to_string(port_) + path;
    }
    int hung_connections() const { return hung_count_.load(); }

    // A port on which nothing listens (bound then closed at once).
    static int closed_port() {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        close(fd);
        return ntohs(addr.sin_port);
    }

  private:
    void serve() {
        for (;;) {
            pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
            if (poll(fds, 2, -1) < 0) continue;
            if (fds[1].revents) return;
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0) handle(fd);
        }
    }

    void handle(int fd) {
        std::string request;
        char buffer[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 2000) <= 0) break;
            ssize_t n = read(fd, buffer, sizeof buffer);
            if (n <= 0) break;
            request.append(buffer, static_cast<std::size_t>(n));
        }
        if (!request.empty()) ++requests_;
        const auto first_space = request.find(' ');
        const auto second_space = request.find(' ', first_space + 1);
        std::string path = first_space == std::string::npos
                               ? "/"
                               : request.substr(first_space + 1, second_space - first_space - 1);
        {
            std::lock_guard lock(paths_mutex_);
            ++path_requests_[path];
        }
        if (path == hang_path_) {
            hung_.push_back(fd);  // keep it open, never answer
            ++hung_count_;
            return;
        }
        auto it = routes_.find(path);
        Response response =
            it != routes_.end() ? it->second : Response{404, "text/html", "<h1>Not found</h1>"};
        if (response.delay_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(response.delay_ms));
        std::string head = "HTTP/1.0 " + std::to_string(response.status) +
                           " X\r\nContent-Type: " + response.content_type +
                           "\r\nContent-Length: " + std::to_string(response.body.size()) +
                           "\r\nConnection: close\r\n" + response.headers + "\r\n";
        std::string all = head + response.body;
        std::size_t done = 0;
        while (done < all.size()) {
            ssize_t n = send(fd, all.data() + done, all.size() - done, MSG_NOSIGNAL);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        close(fd);
    }

    std::map<std::string, Response> routes_;
    std::string hang_path_;
    std::string address_;
    std::atomic<int> requests_{0};
    mutable std::mutex paths_mutex_;
    std::map<std::string, int> path_requests_;
    int listen_fd_ = -1;
    int port_ = 0;
    int stop_pipe_[2] = {-1, -1};
    std::vector<int> hung_;  // only touched by the server thread until join
    std::atomic<int> hung_count_{0};
    std::thread thread_;
};

}  // namespace enconvert::render::testing

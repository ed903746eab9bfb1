// A loopback HTTP/1.0 server whose answers come from a function of the
// request path (with query), so a test site can link to itself by absolute
// URL, serve endless pages (/calendar?page=N) and hang on purpose. Counts
// every request by path. One accept thread; answers are sequential.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace enconvert::crawl::testing {

struct SiteResponse {
    int status = 200;
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
    std::string headers = {};  // extra header lines, each ending in \r\n
    int delay_ms = 0;          // answer this late (holds the one server thread)
    bool hang = false;         // never answer (the connection stays open)

    static SiteResponse hanging() {
        SiteResponse r;
        r.hang = true;
        return r;
    }
};

class SiteServer {
  public:
    using Handler = std::function<SiteResponse(const std::string& path)>;

    // `handler` may use url()/port() of this server: it runs only after the
    // constructor has returned.
    explicit SiteServer(Handler handler, std::string address = "127.0.0.1")
        : handler_(std::move(handler)), address_(std::move(address)) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        if (inet_pton(AF_INET, address_.c_str(), &addr.sin_addr) != 1 ||
            bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(listen_fd_, 64) != 0) {
            close(listen_fd_);
            throw std::runtime_error("cannot listen on " + address_);
        }
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        if (pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
        thread_ = std::thread([this] { serve(); });
    }

    ~SiteServer() {
        (void)!write(stop_pipe_[1], "x", 1);
        thread_.join();
        for (int fd : hung_) close(fd);
        close(listen_fd_);
        close(stop_pipe_[0]);
        close(stop_pipe_[1]);
    }

    SiteServer(const SiteServer&) = delete;
    SiteServer& operator=(const SiteServer&) = delete;

    int port() const { return port_; }
    std::string origin() const { return "http://" + address_ + ":" + std::to_string(port_); }
    std::string url(const std::string& path) const { return origin() + path; }

    int requests() const { return requests_.load(); }
    int requests(const std::string& path) const {
        std::lock_guard lock(mutex_);
        auto it = paths_.find(path);
        return it == paths_.end() ? 0 : it->second;
    }
    // Requests whose path starts with `prefix`.
    int requests_under(const std::string& prefix) const {
        std::lock_guard lock(mutex_);
        int n = 0;
        for (const auto& [path, count] : paths_) {
            if (path.rfind(prefix, 0) == 0) n += count;
        }
        return n;
    }
    std::vector<std::string> user_agents() const {
        std::lock_guard lock(mutex_);
        return agents_;
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
        if (request.empty()) {
            close(fd);
            return;
        }
        ++requests_;
        const auto first_space = request.find(' ');
        const auto second_space = request.find(' ', first_space + 1);
        const std::string path =
            first_space == std::string::npos
                ? "/"
                : request.substr(first_space + 1, second_space - first_space - 1);
        {
            std::lock_guard lock(mutex_);
            ++paths_[path];
            const auto ua = request.find("User-Agent: ");
            if (ua != std::string::npos) {
                agents_.push_back(request.substr(ua + 12, request.find("\r\n", ua) - ua - 12));
            }
        }
        const SiteResponse response = handler_(path);
        if (response.hang) {
            hung_.push_back(fd);
            return;
        }
        if (response.delay_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(response.delay_ms));
        }
        const std::string all = "HTTP/1.0 " + std::to_string(response.status) +
                                " X\r\nContent-Type: " + response.content_type +
                                "\r\nContent-Length: " + std::to_string(response.body.size()) +
                                "\r\nConnection: close\r\n" + response.headers + "\r\n" +
                                response.body;
        std::size_t done = 0;
        while (done < all.size()) {
            ssize_t n = send(fd, all.data() + done, all.size() - done, MSG_NOSIGNAL);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        close(fd);
    }

    Handler handler_;
    std::string address_;
    std::atomic<int> requests_{0};
    mutable std::mutex mutex_;
    std::map<std::string, int> paths_;
    std::vector<std::string> agents_;
    int listen_fd_ = -1;
    int port_ = 0;
    int stop_pipe_[2] = {-1, -1};
    std::vector<int> hung_;  // only touched by the server thread until join
    std::thread thread_;
};

}  // namespace enconvert::crawl::testing

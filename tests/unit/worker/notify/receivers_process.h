// Runs tests/e2e/receivers.py (test CA, HTTPS receivers, aiosmtpd sink) as a
// child process for the notifier integration tests, and reads what arrived.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace enconvert::test_support {

class Receivers {
  public:
    Receivers() {
        char tmpl[] = "/tmp/enconvert-recv-XXXXXX";
        if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        // This header lives at <repo>/tests/unit/worker/notify/.
        const auto repo = std::filesystem::path(__FILE__).parent_path() / "../../../..";
        const std::string script = (repo / "tests/e2e/receivers.py").string();
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        std::vector<std::string> args = {"/usr/bin/python3", script, "serve", dir_.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (rc != 0) {
            close(fds[0]);
            throw std::runtime_error("cannot start receivers.py");
        }
        FILE* out = fdopen(fds[0], "r");
        char line[4096];
        const bool got = std::fgets(line, sizeof line, out) != nullptr;
        std::fclose(out);
        if (!got) throw std::runtime_error("receivers.py did not start (aiosmtpd installed?)");
        const auto j = nlohmann::json::parse(line);
        smtp_port = j["smtp_port"];
        smtp_tls_port = j["smtp_tls_port"];
        https_port = j["https_port"];
        untrusted_port = j["untrusted_port"];
        ca_file = j["ca_file"];
    }

    ~Receivers() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    Receivers(const Receivers&) = delete;
    Receivers& operator=(const Receivers&) = delete;

    std::string https(const std::string& path) const {
        return "https://127.0.0.1:" + std::to_string(https_port) + path;
    }
    std::string untrusted(const std::string& path) const {
        return "https://127.0.0.1:" + std::to_string(untrusted_port) + path;
    }
    std::string smtp_url() const { return "smtp://127.0.0.1:" + std::to_string(smtp_port); }
    // A sink that offers STARTTLS (test CA) and AUTH only after it.
    std::string smtp_tls_host() const { return "127.0.0.1:" + std::to_string(smtp_tls_port); }

    std::vector<nlohmann::json> webhooks(const std::string& path) const {
        std::vector<nlohmann::json> out;
        for (auto& j : lines("webhooks.jsonl")) {
            if (j["path"] == path) out.push_back(j);
        }
        return out;
    }
    std::vector<nlohmann::json> mails() const { return lines("mail.jsonl"); }
    // Every SMTP AUTH the sink was sent (it offers AUTH without STARTTLS).
    std::vector<nlohmann::json> smtp_logins() const { return lines("smtp_auth.jsonl"); }
    // Every login the STARTTLS sink took, with its password.
    std::vector<nlohmann::json> smtp_tls_logins() const { return lines("smtp_tls_auth.jsonl"); }

    int smtp_port = 0;
    int smtp_tls_port = 0;
    int https_port = 0;
    int untrusted_port = 0;
    std::string ca_file;

  private:
    std::vector<nlohmann::json> lines(const char* name) const {
        std::vector<nlohmann::json> out;
        std::ifstream in(dir_ / name);
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty()) out.push_back(nlohmann::json::parse(line));
        }
        return out;
    }

    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

}  // namespace enconvert::test_support

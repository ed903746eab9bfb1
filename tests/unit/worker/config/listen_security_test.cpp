// The `listen` checks of parse_worker_config: plain tcp:// beyond loopback
// is refused unless CURVE or allow_plain_tcp says otherwise.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/worker_config.h"

using namespace enconvert::config;

namespace {

std::vector<std::string> args(std::vector<std::string> extra) {
    std::vector<std::string> a = {"--database_url",        "dbname=x",   "--storage_dir", "/tmp/s",
                                  "--signing_secret_file", "/tmp/secret"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

// The ConfigError's text, or "" when the configuration is accepted.
std::string error_for(std::vector<std::string> extra) {
    try {
        parse_worker_config(args(std::move(extra)), ConfigPurpose::serve, "");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(ListenSecurity, LoopbackAndIpcNeedNothing) {
    EXPECT_EQ(error_for({"--listen", "ipc:///tmp/w.sock"}), "");
    EXPECT_EQ(error_for({"--listen", "tcp://127.0.0.2:5555"}), "");
    EXPECT_EQ(error_for({"--listen", "tcp://[::1]:5555"}), "");
}

TEST(ListenSecurity, PlainTcpBeyondLoopbackIsRefusedUnlessAllowed) {
    const std::string e = error_for({"--listen", "tcp://10.0.0.5:5555"});
    EXPECT_NE(e.find("curve_secret_key_file"), std::string::npos) << e;
    EXPECT_NE(e.find("allow_plain_tcp"), std::string::npos) << e;
    EXPECT_NE(error_for({"--listen", "tcp://*:5555"}), "");
    EXPECT_EQ(error_for({"--listen", "tcp://10.0.0.5:5555", "--allow_plain_tcp", "true"}), "");
}

TEST(ListenSecurity, CurveNeedsBothFilesAndTcp) {
    EXPECT_EQ(error_for({"--listen", "tcp://10.0.0.5:5555", "--curve_secret_key_file", "/k",
                         "--curve_allowed_clients_file", "/a"}),
              "");
    EXPECT_NE(error_for({"--listen", "tcp://10.0.0.5:5555", "--curve_secret_key_file", "/k"})
                  .find("go together"),
              std::string::npos);
    EXPECT_NE(error_for({"--listen", "tcp://10.0.0.5:5555", "--curve_allowed_clients_file", "/a"})
                  .find("go together"),
              std::string::npos);
    EXPECT_NE(error_for({"--listen", "ipc:///tmp/w.sock", "--curve_secret_key_file", "/k",
                         "--curve_allowed_clients_file", "/a"})
                  .find("tcp://"),
              std::string::npos);
}

TEST(ListenSecurity, MalformedListenAndHeartbeats) {
    EXPECT_NE(error_for({"--listen", "tcp://worker-1:5555"}).find("'listen'"), std::string::npos);
    EXPECT_NE(error_for({"--listen", "ipc:///w", "--heartbeat_interval_ms", "50"})
                  .find("heartbeat_interval_ms"),
              std::string::npos);
    EXPECT_NE(error_for({"--listen", "ipc:///w", "--heartbeat_timeout_ms", "500"})
                  .find("heartbeat_timeout_ms"),
              std::string::npos);
    const auto c = parse_worker_config(args({"--listen", "ipc:///w"}), ConfigPurpose::serve, "");
    EXPECT_EQ(c.heartbeat_interval_ms, 1000);
    EXPECT_EQ(c.heartbeat_timeout_ms, 3000);
    EXPECT_FALSE(c.allow_plain_tcp);
    EXPECT_TRUE(c.curve_secret_key_file.empty());
}

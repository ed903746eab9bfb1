#include "db/connection_defaults.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "db/session.h"

using enconvert::db::with_connection_defaults;

namespace {

std::map<std::string, std::string> parsed(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    EXPECT_NE(options, nullptr) << (error ? error : "");
    std::map<std::string, std::string> out;
    for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
        if (o->val != nullptr) out[o->keyword] = o->val;
    }
    PQconninfoFree(options);
    return out;
}

}  // namespace

TEST(ConnectionDefaultsTest, BoundsTheWaitsTheUrlLeavesOpen) {
    const auto p = parsed(with_connection_defaults("host=/run/postgresql dbname=enconvert"));
    EXPECT_EQ(p.at("host"), "/run/postgresql");
    EXPECT_EQ(p.at("dbname"), "enconvert");
    EXPECT_EQ(p.at("connect_timeout"), "10");
    EXPECT_EQ(p.at("keepalives_idle"), "30");
    EXPECT_EQ(p.at("keepalives_interval"), "10");
    EXPECT_EQ(p.at("keepalives_count"), "3");
    EXPECT_EQ(p.at("tcp_user_timeout"), "30000");
}

TEST(ConnectionDefaultsTest, TheOperatorsValuesAndUriFormAreKept) {
    const auto p = parsed(with_connection_defaults(
        "postgresql://enc%20user:p%27w@db.example:6543/jobs?connect_timeout=3&sslmode=require"));
    EXPECT_EQ(p.at("host"), "db.example");
    EXPECT_EQ(p.at("port"), "6543");
    EXPECT_EQ(p.at("user"), "enc user");
    EXPECT_EQ(p.at("password"), "p'w");  // quoted so that libpq reads it back whole
    EXPECT_EQ(p.at("dbname"), "jobs");
    EXPECT_EQ(p.at("sslmode"), "require");
    EXPECT_EQ(p.at("connect_timeout"), "3");
    EXPECT_EQ(p.at("tcp_user_timeout"), "30000");
}

TEST(ConnectionDefaultsTest, TheEnvironmentAndServiceFilesAreNotOverridden) {
    ASSERT_EQ(setenv("PGCONNECT_TIMEOUT", "4", 1), 0);
    const auto env = parsed(with_connection_defaults("host=/run/postgresql"));
    unsetenv("PGCONNECT_TIMEOUT");
    EXPECT_EQ(env.count("connect_timeout"), 0u);  // libpq reads the variable itself
    EXPECT_EQ(env.at("tcp_user_timeout"), "30000");
    const auto service = parsed(with_connection_defaults("service=enconvert"));
    EXPECT_EQ(service.at("service"), "enconvert");
    EXPECT_EQ(service.count("connect_timeout"), 0u);
    EXPECT_EQ(service.count("keepalives_idle"), 0u);
}

// pg_stat_activity tells the worker's connections apart by component; an
// application_name the operator chose is libpq's first choice and stays so.
TEST(ConnectionDefaultsTest, AComponentNamesTheConnectionUnlessTheOperatorDid) {
    const auto named = parsed(with_connection_defaults("host=/run/postgresql", "janitor"));
    EXPECT_EQ(named.at("fallback_application_name"), "enconvert-janitor");
    EXPECT_EQ(named.count("application_name"), 0u);
    const auto unnamed = parsed(with_connection_defaults("host=/run/postgresql"));
    EXPECT_EQ(unnamed.count("fallback_application_name"), 0u);
    const auto operators =
        parsed(with_connection_defaults("postgresql:///enconvert?application_name=ops", "janitor"));
    EXPECT_EQ(operators.at("application_name"), "ops");
}

TEST(ConnectionDefaultsTest, AnUnparsableUrlIsLeftForLibpqToReport) {
    EXPECT_EQ(with_connection_defaults("host='unterminated"), "host='unterminated");
}

// A server that accepts the connection and never answers (a database behind
// a link that went dark): libpq's default waited for ever, and with it the
// component's loop (its stop included).
TEST(ConnectionDefaultsTest, ASessionToAServerThatNeverAnswersGivesUp) {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listener, 4), 0);  // the kernel completes the handshake; nothing answers
    socklen_t len = sizeof addr;
    getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    const std::string url = "host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) +
                            " user=postgres dbname=postgres";
    // On a thread of its own, so that a connect without end fails the test
    // instead of hanging it.
    auto outcome = std::make_shared<std::promise<std::string>>();
    std::thread([url, outcome] {
        try {
            enconvert::db::Session session(url, {});
            outcome->set_value("connected");
        } catch (const pqxx::broken_connection&) {
            outcome->set_value("gave up");
        } catch (const std::exception& e) {
            outcome->set_value(e.what());
        }
    }).detach();
    auto answer = outcome->get_future();
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(60)), std::future_status::ready)
        << "still connecting after 60 s";
    EXPECT_EQ(answer.get(), "gave up");
    close(listener);
}

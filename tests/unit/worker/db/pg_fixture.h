// A throwaway PostgreSQL cluster for DB-backed tests: initdb + pg_ctl in a
// temp dir, unix socket only (listen_addresses=''), schema/migrations/*.sql
// applied with psql. Started once per test process; if it cannot start, the
// tests FAIL (they never skip). Header-only because the test target globs
// only *_test.cpp files.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/migrations.h"

namespace enconvert::test_support {

namespace fs = std::filesystem;

class PgCluster {
  public:
    PgCluster() {
        bindir_ = find_bindir();
        char tmpl[] = "/tmp/enconvert-pg-XXXXXX";
        if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        chmod(dir_.c_str(), 0755);
        try {
            start();
        } catch (...) {
            cleanup();  // the destructor does not run for a failed constructor
            throw;
        }
    }

    ~PgCluster() { cleanup(); }

    std::string url() const {
        return "host=" + dir_.string() + " port=" + std::to_string(port_) +
               " user=postgres dbname=postgres";
    }

    // Empties every table so each test starts from a clean database.
    void reset() {
        pqxx::connection c(url());
        pqxx::work tx(c);
        tx.exec("TRUNCATE accounts, api_keys, jobs, tasks RESTART IDENTITY CASCADE");
        tx.commit();
    }

    // The server killed as a crash kills it (immediate mode: no checkpoint,
    // what sits in its WAL buffers is lost), then started again: only what
    // was written to the WAL survives. Every connection is lost.
    void crash_and_restart() {
        const std::string data = (dir_ / "data").string();
        run_pg(bindir_ + "/pg_ctl -D " + data + " -m immediate -w stop", "pg_ctl stop");
        run_pg(bindir_ + "/pg_ctl -D " + data + " -l " + (dir_ / "server.log").string() +
                   " -w -t 30 -o \"" + server_options() + "\" start",
               "pg_ctl start");
    }

  private:
    std::string server_options() const {
        return "-p " + std::to_string(port_) + " -k " + dir_.string() +
               " -c listen_addresses='' -c fsync=off";
    }

    void start() {
        as_root_ = geteuid() == 0;
        if (as_root_) {
            // initdb/postgres refuse to run as root: hand the dir to postgres.
            const passwd* pw = getpwnam("postgres");
            if (pw == nullptr) throw std::runtime_error("no 'postgres' user to run the cluster");
            if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                throw std::runtime_error("chown of the cluster dir failed");
            }
        }
        port_ = free_port();
        const std::string data = (dir_ / "data").string();
        run_pg(bindir_ + "/initdb --no-sync -A trust -U postgres -E UTF8 -D " + data, "initdb");
        run_pg(bindir_ + "/pg_ctl -D " + data + " -l " + (dir_ / "server.log").string() +
                   " -w -t 30 -o \"" + server_options() + "\" start",
               "pg_ctl start");
        started_ = true;
        apply_migrations();
    }

    void cleanup() noexcept {
        if (started_) {
            const std::string cmd = bindir_ + "/pg_ctl -D " + (dir_ / "data").string() +
                                    " -m immediate stop >/dev/null 2>&1";
            [[maybe_unused]] const int rc =
                std::system(as_root_ ? ("runuser -u postgres -- " + cmd).c_str() : cmd.c_str());
            started_ = false;
        }
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    static std::string find_bindir() {
        if (const char* env = std::getenv("PG_BINDIR")) return env;
        std::vector<fs::path> found;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
            if (fs::exists(e.path() / "bin/initdb")) found.push_back(e.path() / "bin");
        }
        if (found.empty()) throw std::runtime_error("no PostgreSQL server binaries found");
        std::sort(found.begin(), found.end());
        return found.back().string();
    }

    static int free_port() {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            if (fd >= 0) close(fd);
            throw std::runtime_error("cannot pick a free port");
        }
        close(fd);
        return ntohs(addr.sin_port);
    }

    void run_pg(const std::string& cmd, const char* what) {
        const std::string log = (dir_ / "cmd.log").string();
        const std::string full =
            (as_root_ ? "runuser -u postgres -- " + cmd : cmd) + " >>" + log + " 2>&1";
        if (std::system(full.c_str()) != 0) {
            std::ifstream in(log);
            std::stringstream ss;
            ss << in.rdbuf();
            throw std::runtime_error(std::string(what) + " failed: " + ss.str());
        }
    }

    void apply_migrations() {
        // This header lives at <repo>/tests/unit/worker/db/.
        const fs::path repo = fs::path(__FILE__)
                                  .parent_path()
                                  .parent_path()
                                  .parent_path()
                                  .parent_path()
                                  .parent_path();
        pqxx::connection c(url());
        db::apply_migrations(c, repo / "schema/migrations");
    }

    std::string bindir_;
    fs::path dir_;
    int port_ = 0;
    bool as_root_ = false;
    bool started_ = false;
};

// Base fixture: one cluster per test process, tables emptied before each test.
class PgTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (cluster_ || !startup_error_.empty()) return;
        try {
            cluster_ = std::make_unique<PgCluster>();
        } catch (const std::exception& e) {
            startup_error_ = e.what();
        }
    }
    static void TearDownTestSuite() { cluster_.reset(); }

    void SetUp() override {
        ASSERT_TRUE(cluster_) << "PostgreSQL test cluster did not start: " << startup_error_;
        cluster_->reset();
    }

    static std::string url() { return cluster_->url(); }

    inline static std::unique_ptr<PgCluster> cluster_;
    inline static std::string startup_error_;
};

// A trigger on jobs for one test, dropped with its function when it goes
// out of scope: the cluster lives as long as the test process, and the
// TRUNCATE between tests keeps triggers.
class JobsTrigger {
  public:
    enum class When {
        before_insert,   // for each row, as it is inserted
        at_commit,       // deferred constraint trigger: fails the COMMIT itself
        each_statement,  // after each INSERT statement, once however many rows
    };
    // `body`: the PL/pgSQL statements of the trigger function, before its
    // RETURN.
    JobsTrigger(std::string url, std::string name, When when, const std::string& body)
        : url_(std::move(url)), name_(std::move(name)) {
        pqxx::connection c(url_);
        pqxx::work tx(c);
        create_function(tx, body);
        switch (when) {
            case When::at_commit:
                tx.exec("CREATE CONSTRAINT TRIGGER " + name_ +
                        " AFTER INSERT ON jobs DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                        "EXECUTE FUNCTION " +
                        name_ + "()");
                break;
            case When::before_insert:
                tx.exec("CREATE TRIGGER " + name_ + " BEFORE INSERT ON jobs FOR EACH ROW " +
                        "EXECUTE FUNCTION " + name_ + "()");
                break;
            case When::each_statement:
                tx.exec("CREATE TRIGGER " + name_ + " AFTER INSERT ON jobs FOR EACH STATEMENT " +
                        "EXECUTE FUNCTION " + name_ + "()");
                break;
        }
        tx.commit();
    }
    // A trigger on another table: `create` is the whole CREATE [CONSTRAINT]
    // TRIGGER statement, executing the function `name`().
    JobsTrigger(std::string url, std::string name, std::string table, const std::string& create,
                const std::string& body)
        : url_(std::move(url)), name_(std::move(name)), table_(std::move(table)) {
        pqxx::connection c(url_);
        pqxx::work tx(c);
        create_function(tx, body);
        tx.exec(create);
        tx.commit();
    }
    ~JobsTrigger() {
        try {
            pqxx::connection c(url_);
            pqxx::work tx(c);
            tx.exec("DROP TRIGGER IF EXISTS " + name_ + " ON " + table_);
            tx.exec("DROP FUNCTION IF EXISTS " + name_ + "()");
            tx.commit();
        } catch (const std::exception&) {
            // The next test's own setup reports a broken cluster.
        }
    }
    JobsTrigger(const JobsTrigger&) = delete;
    JobsTrigger& operator=(const JobsTrigger&) = delete;

  private:
    void create_function(pqxx::work& tx, const std::string& body) {
        tx.exec("CREATE FUNCTION " + name_ + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
                body + " RETURN NEW; END $$");
    }

    std::string url_;
    std::string name_;
    std::string table_ = "jobs";
};

}  // namespace enconvert::test_support

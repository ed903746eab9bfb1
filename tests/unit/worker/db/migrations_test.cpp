#include "db/migrations.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "admin/migrate_command.h"
#include "db/job_inserts.h"
#include "db/key_repository.h"
#include "pg_fixture.h"
#include "util/ids.h"

using namespace enconvert;
namespace fs = std::filesystem;

namespace {

// The fixture's cluster already holds the real schema; these tests work in
// a database of their own, created empty for each test.
class MigrationsTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        pqxx::connection admin(url());
        pqxx::nontransaction tx(admin);
        tx.exec("DROP DATABASE IF EXISTS migrations_test");
        tx.exec("CREATE DATABASE migrations_test");
        db_url_ = url() + " dbname=migrations_test";
        dir_ = fs::temp_directory_path() / ("enconvert-migrations-" + std::to_string(getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& sql) {
        std::ofstream(dir_ / name) << sql;
    }

    long long count(const std::string& sql) {
        pqxx::connection c(db_url_);
        pqxx::nontransaction tx(c);
        return tx.exec(sql)[0][0].as<long long>();
    }

    int migrate(std::string& out, std::string& err) {
        std::ostringstream o, e;
        const int rc = admin::run_migrate_command(
            {"--database_url", db_url_, "--schema_dir", dir_.string()}, o, e);
        out = o.str();
        err = e.str();
        return rc;
    }

    std::string db_url_;
    fs::path dir_;
};

}  // namespace

TEST_F(MigrationsTest, AppliesInOrderOnceAndIsIdempotent) {
    write("002_b.sql", "ALTER TABLE t ADD COLUMN b int;");
    write("001_a.sql", "CREATE TABLE t (a int);");
    write("README.md", "not a migration");
    std::string out, err;
    ASSERT_EQ(migrate(out, err), 0) << err;
    EXPECT_EQ(out, "applied 001_a\napplied 002_b\nschema is at version 002_b\n");
    EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'"), 2);

    ASSERT_EQ(migrate(out, err), 0) << err;
    EXPECT_EQ(out, "schema is at version 002_b (already up to date)\n");

    write("003_c.sql", "ALTER TABLE t ADD COLUMN c int;");
    ASSERT_EQ(migrate(out, err), 0) << err;
    EXPECT_EQ(out, "applied 003_c\nschema is at version 003_c\n");
}

TEST_F(MigrationsTest, FailingMigrationLeavesNothingOfItself) {
    write("001_a.sql", "CREATE TABLE t (a int);");
    write("002_bad.sql", "CREATE TABLE u (x int); SELECT no_such_function();");
    std::string out, err;
    EXPECT_EQ(migrate(out, err), 1);
    EXPECT_NE(err.find("migration failed"), std::string::npos) << err;
    EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'u'"), 0);
}

// A migration altering a table another session holds (a pg_dump's long
// transaction) waited for it without end, and every later statement on that
// table, the workers' included, queued behind its lock request. Now it
// waits a bounded time, tries again, then gives up with a clear error.
TEST_F(MigrationsTest, AMigrationGivesUpATableLockAnotherSessionHolds) {
    write("001_a.sql", "CREATE TABLE t (a int);");
    pqxx::connection conn(db_url_);
    ASSERT_EQ(db::apply_migrations(conn, dir_).size(), 1u);
    write("002_b.sql", "ALTER TABLE t ADD COLUMN b int;");
    pqxx::connection holder(db_url_);
    pqxx::work held(holder);
    held.exec("SELECT count(*) FROM t");  // ACCESS SHARE until the end
    {
        // Without a bound the test would hang: fail it instead.
        pqxx::nontransaction tx(conn);
        tx.exec("SET statement_timeout = 20000");
    }
    try {
        db::apply_migrations(conn, dir_, {std::chrono::milliseconds(100), 2});
        ADD_FAILURE() << "the migration went through under a held lock";
    } catch (const db::MigrationError& e) {
        EXPECT_NE(std::string(e.what()).find("migration 002_b could not lock its tables in 2 "
                                             "tries"),
                  std::string::npos)
            << e.what();
    }
    held.abort();
    EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 1);
    EXPECT_EQ(db::apply_migrations(conn, dir_), std::vector<std::string>{"002_b"});
}

TEST_F(MigrationsTest, RefusesADatabaseNewerThanItself) {
    write("001_a.sql", "CREATE TABLE t (a int);");
    write("002_b.sql", "ALTER TABLE t ADD COLUMN b int;");
    std::string out, err;
    ASSERT_EQ(migrate(out, err), 0) << err;
    fs::remove(dir_ / "002_b.sql");  // an older release
    write("003_c.sql", "ALTER TABLE t ADD COLUMN c int;");
    EXPECT_EQ(migrate(out, err), 1);
    EXPECT_EQ(err,
              "enconvert-worker: the database has schema version 002_b, which this enconvert "
              "does not know: it was migrated by a newer release; upgrade enconvert instead\n");
    EXPECT_EQ(count("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' "
                    "AND column_name = 'c'"),
              0);
}

TEST_F(MigrationsTest, RealSchemaAppliesToAnEmptyDatabase) {
    const fs::path repo = fs::path(__FILE__).parent_path() / "../../../..";
    pqxx::connection c(db_url_);
    const auto applied = db::apply_migrations(c, repo / "schema/migrations");
    EXPECT_EQ(applied, db::known_migrations(repo / "schema/migrations"));
    EXPECT_GE(applied.size(), 4u);
    EXPECT_TRUE(db::apply_migrations(c, repo / "schema/migrations").empty());
}

TEST_F(MigrationsTest, MissingSchemaDirIsAClearError) {
    std::ostringstream o, e;
    EXPECT_EQ(admin::run_migrate_command(
                  {"--database_url", db_url_, "--schema_dir", "/nonexistent/schema"}, o, e),
              1);
    EXPECT_EQ(e.str(), "enconvert-worker: cannot read the schema directory /nonexistent/schema\n");
}

TEST_F(MigrationsTest, AServingWorkerNeedsTheNewestMigrationItWasBuiltWith) {
    // `serve` refuses a database that lacks it (before, a worker upgraded
    // ahead of its database started "ready" and failed every query of the
    // new schema, e.g. every batch ZIP claim, for ever).
    const fs::path repo = fs::path(__FILE__).parent_path() / "../../../..";
    const auto known = db::known_migrations(repo / "schema/migrations");
    EXPECT_EQ(db::required_schema_version(), known.back());
    pqxx::connection c(db_url_);
    const auto never = db::schema_behind(c);
    ASSERT_TRUE(never);
    EXPECT_NE(never->find("none (the database was never migrated)"), std::string::npos) << *never;
    db::apply_migrations(c, repo / "schema/migrations");
    EXPECT_FALSE(db::schema_behind(c));
    {
        pqxx::work tx(c);
        tx.exec_params("DELETE FROM schema_migrations WHERE version = $1", known.back());
        tx.commit();
    }
    const auto behind = db::schema_behind(c);
    ASSERT_TRUE(behind);
    EXPECT_EQ(*behind, "the database schema is at " + known[known.size() - 2] +
                           ", this worker needs " + known.back() +
                           ": run `enconvert-worker migrate` with the same configuration first");
    // A later release's migration on top (a rolling upgrade): still served.
    {
        pqxx::work tx(c);
        tx.exec_params("INSERT INTO schema_migrations (version) VALUES ($1), ('999_later')",
                       known.back());
        tx.commit();
    }
    EXPECT_FALSE(db::schema_behind(c));
}

TEST_F(MigrationsTest, ServeRefusesADatabaseWithoutTheNewestMigration) {
    // The binary's start, as a service manager runs it: exit status 1 and
    // the sentence that says what to run, before any work is taken.
    const fs::path repo = fs::path(__FILE__).parent_path() / "../../../..";
    pqxx::connection c(db_url_);
    db::apply_migrations(c, repo / "schema/migrations");
    {
        pqxx::work tx(c);
        tx.exec_params("DELETE FROM schema_migrations WHERE version = $1",
                       std::string(db::required_schema_version()));
        tx.commit();
    }
    write("secret", std::string(64, 'a'));
    const fs::path out = dir_ / "serve.out";
    const std::string cmd = std::string(ENCONVERT_WORKER_BINARY) + " serve --database_url '" +
                            db_url_ + "' --signing_secret_file " + (dir_ / "secret").string() +
                            " --renderer_binary /bin/true --listen ipc://" +
                            (dir_ / "w.sock").string() + " --storage_dir " +
                            (dir_ / "storage").string() + " >" + out.string() + " 2>&1";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::ifstream in(out);
    const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(said.find(std::string("this worker needs ") + db::required_schema_version()),
              std::string::npos)
        << said;
    EXPECT_FALSE(fs::exists(dir_ / "w.sock"));
}

// Version 8 redacts a job's cookies, headers and auth in the statement that
// ends it; jobs that had ended before it was applied kept their values.
// Version 17 redacts those, and leaves running jobs' values alone.
TEST_F(MigrationsTest, JobsThatEndedBeforeTheRedactionTriggerAreRedacted) {
    const fs::path real = fs::path(__FILE__).parent_path() / "../../../../schema/migrations";
    for (const std::string& name : db::known_migrations(real))
        if (name < "017") fs::copy_file(real / (name + ".sql"), dir_ / (name + ".sql"));
    pqxx::connection c(db_url_);
    db::apply_migrations(c, dir_);

    const db::CreatedKey key = db::create_key(c, "acme", std::string(64, 'a'), "sk_live_acme");
    const nlohmann::json options = {
        {"cookies", {{{"name", "session"}, {"value", "s3cr3t"}, {"domain", "a.example"}}}},
        {"headers", {{"Authorization", "Bearer t0ken"}}},
        {"auth", {{"username", "u"}, {"password", "p4ss"}}}};
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        db::NewJob j;
        j.id = util::new_job_id(false);
        j.account_id = key.account_id;
        j.api_key_id = key.key_id;
        j.endpoint = "url-to-pdf";
        j.options = options;
        j.base_url = "https://api.example.com";
        j.urls = {"https://a.example/"};
        db::insert_job(c, j);
        ids.push_back(j.id);
    }
    {
        // The first ended as before version 8: without the trigger.
        pqxx::work tx(c);
        tx.exec("ALTER TABLE jobs DISABLE TRIGGER jobs_redact_request_credentials");
        tx.exec_params("UPDATE jobs SET status = 'completed', completed_at = now() WHERE id = $1",
                       ids[0]);
        tx.exec("ALTER TABLE jobs ENABLE TRIGGER jobs_redact_request_credentials");
        tx.commit();
    }
    const auto options_of = [&c](const std::string& id) {
        pqxx::nontransaction tx(c);
        return nlohmann::json::parse(
            tx.exec_params1("SELECT options::text FROM jobs WHERE id = $1", id)[0]
                .as<std::string>());
    };
    ASSERT_EQ(options_of(ids[0])["auth"]["password"], "p4ss");

    fs::copy_file(real / "017_redact_finished_jobs.sql", dir_ / "017_redact_finished_jobs.sql");
    EXPECT_EQ(db::apply_migrations(c, dir_), std::vector<std::string>{"017_redact_finished_jobs"});
    const nlohmann::json ended = options_of(ids[0]);
    EXPECT_EQ(ended["cookies"][0]["value"], "[redacted]");
    EXPECT_EQ(ended["cookies"][0]["name"], "session");
    EXPECT_EQ(ended["headers"]["Authorization"], "[redacted]");
    EXPECT_EQ(ended["auth"], "[redacted]");
    EXPECT_EQ(options_of(ids[1]), options);  // still running: still needed
}

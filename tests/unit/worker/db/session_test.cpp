// A session's named statements are planned once (db/session.cpp sets
// plan_cache_mode), db::exec_named registers a statement once per
// connection (db/prepared.h), and a lost session stays lost.
#include "db/session.h"

#include <gtest/gtest.h>

#include "db/job_repository.h"
#include "db/prepared.h"
#include "pg_fixture.h"

using namespace enconvert;

namespace {

class SessionTest : public test_support::PgTest {
  protected:
    // How many executions of the statement `name` used its generic plan
    // and how many one planned for their values (pg_prepared_statements).
    static std::pair<int, int> plans(pqxx::connection& c, const std::string& name) {
        pqxx::read_transaction tx(c);
        const pqxx::row r = tx.exec_params1(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1", name);
        return {r[0].as<int>(), r[1].as<int>()};
    }

    static int run_three_times(pqxx::connection& c) {
        int seen = 0;
        for (int i = 0; i < 3; ++i) {
            pqxx::work tx(c);
            seen +=
                db::exec_named(tx, "session_test_lookup", "SELECT count(*) FROM jobs WHERE id = $1",
                               "job_" + std::to_string(i))
                    .at(0)[0]
                    .as<int>();
            tx.commit();
        }
        return seen;
    }
};

}  // namespace

TEST_F(SessionTest, NamedStatementsArePlannedOnce) {
    db::Session session(url(), {});
    EXPECT_EQ(run_three_times(session.conn()), 0);
    const auto [generic, custom] = plans(session.conn(), "session_test_lookup");
    EXPECT_EQ(custom, 0);
    EXPECT_EQ(generic, 3);  // every execution used the one generic plan
}

TEST_F(SessionTest, APlainConnectionPlansForEachValue) {
    // The contrast: PostgreSQL's default plans the first executions anew.
    pqxx::connection plain(url());
    EXPECT_EQ(run_three_times(plain), 0);
    EXPECT_EQ(plans(plain, "session_test_lookup").second, 3);
}

TEST_F(SessionTest, ARegisteredNameWithOtherTextIsRefused) {
    db::Session session(url(), {});
    EXPECT_EQ(run_three_times(session.conn()), 0);
    pqxx::work tx(session.conn());
    EXPECT_THROW(db::exec_named(tx, "session_test_lookup", "SELECT 1"), pqxx::argument_error);
}

TEST_F(SessionTest, TheServerSeesWhichComponentAConnectionServes) {
    db::Session session(url(), {}, "scheduler");
    pqxx::read_transaction tx(session.conn());
    EXPECT_EQ(tx.exec1("SELECT application_name FROM pg_stat_activity "
                       "WHERE pid = pg_backend_pid()")[0]
                  .as<std::string>(),
              "enconvert-scheduler");
}

TEST_F(SessionTest, ALostConnectionStaysLostInsteadOfReconnectingWithoutItsSetup) {
    db::Session session(url(), {db::kJobDoneChannel});
    session.set_statement_timeout(std::chrono::milliseconds(1234));
    int pid = 0;
    {
        pqxx::work tx(session.conn());
        pid = tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
        tx.commit();
    }
    {
        pqxx::connection admin(url());
        pqxx::work tx(admin);
        tx.exec_params("SELECT pg_terminate_backend($1)", pid);
        tx.commit();
    }
    // libpqxx 6 would reconnect on one of the next uses: a session without
    // its statement_timeout, plan_cache_mode and missed notifications.
    for (int i = 0; i < 3; ++i) {
        EXPECT_THROW(
            {
                pqxx::work tx(session.conn());
                tx.exec("SELECT current_setting('statement_timeout')");
            },
            pqxx::broken_connection)
            << "use " << i;
    }
    EXPECT_THROW(session.take_notifications(), pqxx::broken_connection);
}

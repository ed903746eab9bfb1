// A session's named statements are planned once (db/session.cpp sets
// plan_cache_mode), and db::exec_named registers a statement once per
// connection (db/prepared.h).
#include "db/session.h"

#include <gtest/gtest.h>

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

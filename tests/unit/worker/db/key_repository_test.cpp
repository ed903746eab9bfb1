#include "db/key_repository.h"

#include <gtest/gtest.h>

#include <sstream>

#include "admin/key_command.h"
#include "auth/api_keys.h"
#include "pg_fixture.h"

using namespace enconvert;

namespace {
class KeyRepositoryTest : public test_support::PgTest {};
}  // namespace

TEST_F(KeyRepositoryTest, CreateFindRevoke) {
    pqxx::connection conn(url());
    std::ostringstream out;
    const std::string secret = admin::create_key(conn, "acme", out);
    // The secret is the last line of the output.
    std::string last;
    std::istringstream lines(out.str());
    for (std::string l; std::getline(lines, l);) last = l;
    EXPECT_EQ(last, secret);

    const auto found = db::find_active_key(conn, auth::key_hash_hex(secret));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->account_public_id.size(), 16u);
    EXPECT_FALSE(db::find_active_key(conn, auth::key_hash_hex(secret + "x")));

    // A second key for the same account reuses the account.
    const std::string second = admin::create_key(conn, "acme", out);
    EXPECT_EQ(db::find_active_key(conn, auth::key_hash_hex(second))->account_id, found->account_id);

    std::ostringstream listing;
    admin::list_keys(conn, listing);
    EXPECT_NE(listing.str().find(secret.substr(0, 12)), std::string::npos);
    EXPECT_EQ(listing.str().find(secret), std::string::npos);  // never the secret

    EXPECT_TRUE(admin::revoke_key(conn, found->key_id, out));
    EXPECT_FALSE(admin::revoke_key(conn, found->key_id, out));
    EXPECT_FALSE(db::find_active_key(conn, auth::key_hash_hex(secret)));
}

TEST_F(KeyRepositoryTest, CacheSeesRevocationAfterTtl) {
    pqxx::connection conn(url());
    std::ostringstream out;
    const std::string secret = admin::create_key(conn, "acme", out);
    auth::KeyCache cache(std::chrono::milliseconds(200));
    const auto id = cache.lookup(conn, secret);
    ASSERT_TRUE(id);
    ASSERT_TRUE(db::revoke_key(conn, id->key_id));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(cache.lookup(conn, secret));
}

TEST_F(KeyRepositoryTest, KeyCommandCli) {
    std::ostringstream out, err;
    EXPECT_EQ(
        admin::run_key_command({"create", "--account", "cli", "--database_url", url()}, out, err),
        0)
        << err.str();
    EXPECT_EQ(admin::run_key_command({"list", "--database_url", url()}, out, err), 0);
    EXPECT_EQ(admin::run_key_command({"revoke", "--id", "1", "--database_url", url()}, out, err),
              0);
    EXPECT_EQ(admin::run_key_command({"revoke", "--id", "1", "--database_url", url()}, out, err),
              1);
    EXPECT_EQ(admin::run_key_command({"revoke", "--id", "x", "--database_url", url()}, out, err),
              2);
    EXPECT_EQ(admin::run_key_command({"create", "--database_url", url()}, out, err), 2);
    EXPECT_EQ(admin::run_key_command({"list"}, out, err), 2);  // no database_url
}

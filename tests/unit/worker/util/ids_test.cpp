#include "util/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "util/crypto.h"

using namespace enconvert::util;

namespace {
bool all_lower_hex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
}  // namespace

TEST(Ids, JobIdHasPrefixAnd128Bits) {
    const std::string id = new_job_id(false);
    ASSERT_EQ(id.rfind("job_", 0), 0u);
    EXPECT_EQ(id.size(), 4u + 32u);
    EXPECT_TRUE(all_lower_hex(id.substr(4)));
}

TEST(Ids, BatchIdHasPrefix) {
    const std::string id = new_job_id(true);
    ASSERT_EQ(id.rfind("batch_", 0), 0u);
    EXPECT_EQ(id.size(), 6u + 32u);
    EXPECT_TRUE(all_lower_hex(id.substr(6)));
}

TEST(Ids, IdsAreUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) seen.insert(new_job_id(false));
    EXPECT_EQ(seen.size(), 10000u);
}

TEST(Ids, AccountPublicIdIsKeySafe) {
    const std::string id = new_account_public_id();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_TRUE(all_lower_hex(id));
    EXPECT_NE(id, new_account_public_id());
}

TEST(Crypto, Sha256KnownVector) {
    // printf 'abc' | openssl dgst -sha256
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_raw("abc").size(), 32u);
}

TEST(Crypto, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

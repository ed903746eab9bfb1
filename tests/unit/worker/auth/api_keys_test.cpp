#include "auth/api_keys.h"

#include <gtest/gtest.h>

#include <set>

using namespace enconvert::auth;

TEST(ApiKeys, FormatIsSkLivePlus40Base62) {
    const std::string key = generate_api_key();
    ASSERT_EQ(key.rfind("sk_live_", 0), 0u);
    EXPECT_EQ(key.size(), 48u);
    const std::string tail = key.substr(8);
    EXPECT_EQ(
        tail.find_first_not_of("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
        std::string::npos);
}

TEST(ApiKeys, KeysAreUnique) {
    std::set<std::string> keys;
    for (int i = 0; i < 1000; ++i) keys.insert(generate_api_key());
    EXPECT_EQ(keys.size(), 1000u);
}

TEST(ApiKeys, HashIsSha256HexOfWholeKey) {
    // printf 'sk_live_test' | openssl dgst -sha256
    EXPECT_EQ(key_hash_hex("sk_live_test"),
              "89b9c7386ff0a7338d41c4944a2a03d40dd334d0a0646c3fa8ce041b719ec5fb");
    EXPECT_EQ(key_hash_hex(generate_api_key()).size(), 64u);
}

TEST(ApiKeys, ListingPrefixIsFirst12Chars) {
    EXPECT_EQ(key_listing_prefix("sk_live_ab12cdefgh"), "sk_live_ab12");
}

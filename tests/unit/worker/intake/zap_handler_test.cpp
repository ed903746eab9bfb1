#include "intake/zap_handler.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <array>

#include "config/curve_keys.h"

using namespace enconvert;

namespace {

std::string binary_key(const std::string& z85) {
    std::array<std::uint8_t, 32> out{};
    EXPECT_NE(zmq_z85_decode(out.data(), z85.c_str()), nullptr);
    return std::string(out.begin(), out.end());
}

std::vector<std::string> curve_request(const std::string& z85_key) {
    return {"1.0", "7", intake::kZapDomain, "10.0.0.9", "", "CURVE", binary_key(z85_key)};
}

}  // namespace

TEST(ZapDecision, ListedKeyIsLetIn) {
    const auto key = config::generate_curve_keypair().public_key;
    const auto d = intake::decide_zap(curve_request(key), {key});
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.client_key, key);
    EXPECT_EQ(d.address, "10.0.0.9");
    ASSERT_EQ(d.reply.size(), 6u);
    EXPECT_EQ(d.reply[0], "1.0");
    EXPECT_EQ(d.reply[1], "7");  // the request id is echoed
    EXPECT_EQ(d.reply[2], "200");
    EXPECT_EQ(d.reply[4], key);  // user id
}

TEST(ZapDecision, UnlistedKeyIsRefused) {
    const auto listed = config::generate_curve_keypair().public_key;
    const auto other = config::generate_curve_keypair().public_key;
    const auto d = intake::decide_zap(curve_request(other), {listed});
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.client_key, other);
    EXPECT_EQ(d.reply[2], "400");
    EXPECT_EQ(d.reply[4], "");
}

TEST(ZapDecision, OtherMechanismsAndMalformedRequestsAreRefused) {
    const auto key = config::generate_curve_keypair().public_key;
    auto plain = std::vector<std::string>{"1.0", "8", "enconvert", "10.0.0.9", "", "NULL"};
    EXPECT_FALSE(intake::decide_zap(plain, {key}).allowed);
    EXPECT_EQ(intake::decide_zap(plain, {key}).reply[2], "400");
    auto short_key = curve_request(key);
    short_key[6].resize(31);
    EXPECT_FALSE(intake::decide_zap(short_key, {key}).allowed);
    auto bad_version = curve_request(key);
    bad_version[0] = "2.0";
    EXPECT_FALSE(intake::decide_zap(bad_version, {key}).allowed);
    EXPECT_FALSE(intake::decide_zap({}, {key}).allowed);
}

#include "net/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

using namespace enconvert::net;

namespace {

IpAddress ip(const std::string& s) {
    auto a = IpAddress::parse(s);
    EXPECT_TRUE(a) << s;
    return a.value_or(IpAddress{});
}

}  // namespace

TEST(AddressPolicyTest, DeniesNonPublicAddresses) {
    const AddressPolicy policy;
    for (const char* a : {"127.0.0.1",
                          "127.1.2.3",
                          "10.0.0.1",
                          "10.255.255.255",
                          "172.16.0.1",
                          "172.31.255.254",
                          "192.168.1.1",
                          "169.254.169.254",
                          "169.254.1.1",
                          "100.64.0.1",
                          "100.127.255.254",
                          "0.0.0.0",
                          "224.0.0.1",
                          "255.255.255.255",
                          "::1",
                          "::",
                          "fe80::1",
                          "fc00::1",
                          "fd12:3456::1",
                          "ff02::1",
                          "::ffff:127.0.0.1",
                          "::ffff:10.0.0.1",
                          "::ffff:169.254.169.254",
                          "64:ff9b::7f00:1",
                          "2002:7f00:1::1"}) {
        EXPECT_FALSE(policy.allowed(ip(a))) << a;
    }
}

TEST(AddressPolicyTest, DeniesTheSpecialPurposeIpv6RangesTheDocsName) {
    // docs/api.md "Outbound safety": documentation, benchmarking and
    // reserved ranges are refused; these were allowed before.
    const AddressPolicy policy;
    for (const char* a : {"2001:2::1",                             // benchmarking
                          "3fff::1",                               // documentation (RFC 9637)
                          "2001::1",                               // Teredo
                          "2001:0:4136:e378:8000:63bf:3fff:fdd2",  // Teredo, a real client
                          "2001:20::1",                            // ORCHIDv2
                          "5f00::1",                               // SRv6
                          "::ffff:0:7f00:1",                       // IPv4-translated 127.0.0.1
                          "::ffff:0:a00:5"}) {                     // IPv4-translated 10.0.0.5
        EXPECT_FALSE(policy.allowed(ip(a))) << a;
    }
    // Their neighbours stay public.
    for (const char* a : {"2001:200::1", "2001:4860:4860::8888", "3000::1", "5e00::1"}) {
        EXPECT_TRUE(policy.allowed(ip(a))) << a;
    }
}

TEST(AddressPolicyTest, AllowsPublicAddresses) {
    const AddressPolicy policy;
    for (const char* a : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1",
                          "2606:4700:4700::1111", "2a00:1450:4001:80e::200e", "::ffff:8.8.8.8"}) {
        EXPECT_TRUE(policy.allowed(ip(a))) << a;
    }
}

TEST(AddressPolicyTest, ExemptNetworksAreAllowed) {
    const AddressPolicy policy = AddressPolicy::from_config("127.0.0.0/8, ::1/128,10.1.0.0/16");
    EXPECT_TRUE(policy.allowed(ip("127.0.0.1")));
    EXPECT_TRUE(policy.allowed(ip("::1")));
    EXPECT_TRUE(policy.allowed(ip("::ffff:127.0.0.1")));  // v4 exemption covers mapped form
    EXPECT_TRUE(policy.allowed(ip("10.1.2.3")));
    EXPECT_FALSE(policy.allowed(ip("10.2.0.1")));
    EXPECT_FALSE(policy.allowed(ip("169.254.169.254")));
    EXPECT_FALSE(policy.allowed(ip("192.168.0.1")));
}

TEST(AddressPolicyTest, RejectsMalformedNetworks) {
    EXPECT_THROW(AddressPolicy::from_config("10.0.0.0/33"), std::invalid_argument);
    EXPECT_THROW(AddressPolicy::from_config("example.com"), std::invalid_argument);
    EXPECT_THROW(AddressPolicy::from_config("10.0.0.0/"), std::invalid_argument);
    EXPECT_NO_THROW(AddressPolicy::from_config(""));
}

TEST(AddressPolicyTest, CidrContainment) {
    EXPECT_TRUE(Cidr::parse("172.16.0.0/12").contains(ip("172.31.0.1")));
    EXPECT_FALSE(Cidr::parse("172.16.0.0/12").contains(ip("172.32.0.1")));
    EXPECT_TRUE(Cidr::parse("0.0.0.0/0").contains(ip("8.8.8.8")));
    EXPECT_FALSE(Cidr::parse("0.0.0.0/0").contains(ip("::1")));  // families never mix
    EXPECT_TRUE(Cidr::parse("fe80::/10").contains(ip("febf::1")));
}

// Numeric host spellings go through getaddrinfo exactly as a URL host would,
// so decimal, hex and octal forms of loopback are caught after resolution.
TEST(AddressPolicyTest, ResolvedNumericFormsOfLoopbackAreBlocked) {
    const AddressPolicy policy;
    for (const char* host : {"127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0",
                             "::1", "[::1]", "::ffff:127.0.0.1", "169.254.169.254", "localhost"}) {
        const Resolved r = policy.resolve(host);
        EXPECT_EQ(r.error, ResolveError::blocked_address) << host;
    }
}

TEST(AddressPolicyTest, ResolvePicksAnAllowedAddressAndPinsIt) {
    const AddressPolicy policy = AddressPolicy::from_config("127.0.0.0/8");
    const Resolved r = policy.resolve("2130706433");
    ASSERT_EQ(r.error, ResolveError::none);
    EXPECT_EQ(r.address.text(), "127.0.0.1");
    const Resolved pub = AddressPolicy().resolve("8.8.8.8");
    ASSERT_EQ(pub.error, ResolveError::none);
    EXPECT_EQ(pub.address.text(), "8.8.8.8");
}

// A caller falls back to the next address when one does not answer: every
// allowed one is kept, in the resolver's order, the denied ones left out.
TEST(AddressPolicyTest, ResolveKeepsEveryAllowedAddressInOrder) {
    const auto lookup = [](const std::string&) {
        std::vector<IpAddress> out;
        for (const char* a : {"10.0.0.1", "8.8.4.4", "127.0.0.1", "2001:4860:4860::8888"})
            out.push_back(*IpAddress::parse(a));
        return out;
    };
    const AddressPolicy policy({}, lookup);
    const Resolved r = policy.resolve("several.example");
    ASSERT_EQ(r.error, ResolveError::none);
    ASSERT_EQ(r.allowed.size(), 2u);
    EXPECT_EQ(r.allowed[0].text(), "8.8.4.4");
    EXPECT_EQ(r.allowed[1].text(), "2001:4860:4860::8888");
    EXPECT_EQ(r.address.text(), "8.8.4.4");
}

TEST(AddressPolicyTest, TheAddressOfASocketAddress) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
    EXPECT_EQ(IpAddress::of(reinterpret_cast<const sockaddr*>(&in))->text(), "192.0.2.7");
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::7", &in6.sin6_addr);
    EXPECT_EQ(IpAddress::of(reinterpret_cast<const sockaddr*>(&in6))->text(), "2001:db8::7");
    sockaddr other{};
    other.sa_family = AF_UNIX;
    EXPECT_FALSE(IpAddress::of(&other));
    EXPECT_FALSE(IpAddress::of(nullptr));
}

TEST(AddressPolicyTest, UnresolvableHostIsNotFound) {
    EXPECT_EQ(AddressPolicy().resolve("no-such-host.invalid").error, ResolveError::not_found);
}

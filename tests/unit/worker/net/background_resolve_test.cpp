#include "net/background_resolve.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../../support/held_lookup.h"
#include "../../support/wait_until.h"

using namespace enconvert::net;
using enconvert::test_support::HeldLookup;
using enconvert::test_support::wait_until;
using namespace std::chrono_literals;

TEST(BackgroundResolveTest, AnswersThroughThePolicyAndWakesTheCaller) {
    std::atomic<int> woken{0};
    const AddressPolicy policy({}, [](const std::string& host) {
        return host == "internal.example" ? std::vector<IpAddress>{*IpAddress::parse("10.1.2.3")}
                                          : std::vector<IpAddress>{};
    });
    const BackgroundResolve blocked(policy, "internal.example", [&] { ++woken; });
    const BackgroundResolve missing(policy, "missing.example", [&] { ++woken; });
    const auto b = blocked.wait_for(10s);
    const auto m = missing.wait_for(10s);
    ASSERT_TRUE(b && m);
    EXPECT_EQ(b->error, ResolveError::blocked_address);
    EXPECT_EQ(m->error, ResolveError::not_found);
    EXPECT_TRUE(wait_until([&] { return woken == 2; }));
}

TEST(BackgroundResolveTest, ALookupThatDoesNotAnswerCanBeLeftBehind) {
    auto dns = HeldLookup::create({"silent.example"});
    const AddressPolicy policy({}, dns->lookup());
    std::atomic<int> woken{0};
    {
        const BackgroundResolve lookup(policy, "silent.example", [&] { ++woken; });
        EXPECT_FALSE(lookup.wait_for(50ms));
        EXPECT_FALSE(lookup.answer());
    }  // dropped while the lookup still runs: no wait for it
    EXPECT_EQ(dns->answered(), 0);
    dns->release();
    ASSERT_TRUE(wait_until([&] { return dns->answered() == 1; }));
    // The late answer wakes no one: the caller let go of it.
    EXPECT_FALSE(wait_until([&] { return woken > 0; }, 200ms));
}

TEST(BackgroundResolveTest, ALateAnswerIsStillTakenByACallerThatWaits) {
    auto dns = HeldLookup::create({"slow.example"});
    const AddressPolicy policy({}, dns->lookup());
    const BackgroundResolve lookup(policy, "slow.example");
    EXPECT_FALSE(lookup.answer());
    dns->release();
    const auto r = lookup.wait_for(10s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, ResolveError::none);
    EXPECT_EQ(r->address.text(), "93.184.216.34");
}

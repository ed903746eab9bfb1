#include "notify/notifier_config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/worker_config.h"

using namespace enconvert;
namespace po = boost::program_options;

namespace {

// Parses `--key value` pairs with the notifier's options only, as the core
// does with the config file, and reads them back.
notify::NotifierOptions read(const std::vector<std::string>& args) {
    po::options_description d;
    notify::add_notifier_options(d);
    std::vector<const char*> argv{"test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    po::variables_map vm;
    po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), d), vm);
    po::notify(vm);
    return notify::read_notifier_options(vm);
}

// The ConfigError text for `args`, or "" if they were accepted.
std::string error_of(const std::vector<std::string>& args) {
    try {
        read(args);
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(NotifierConfig, DefaultsAreTheReferenceContract) {
    const auto o = read({});
    EXPECT_EQ(o.mail_from, "enconvert@localhost");
    EXPECT_EQ(o.webhook_timeout, 30);  // "must respond within 30 seconds"
    EXPECT_EQ(o.smtp_timeout, 60);
    EXPECT_FALSE(o.webhook_signing);  // "no authentication headers"
    EXPECT_EQ(o.webhook_retries, 0);  // "does not retry"
    EXPECT_EQ(o.email_retries, 0);
    EXPECT_EQ(o.max_concurrent, 64);
    EXPECT_EQ(o.account_max_concurrent, 0);
    EXPECT_EQ(o.effective_account_max_concurrent(), 32);  // half of the slots
    EXPECT_EQ(o.shutdown_grace, 5);
    EXPECT_EQ(o.lease_seconds, 0);
    EXPECT_EQ(o.effective_lease_seconds(), 60 + 120);  // longest timeout + 120
}

TEST(NotifierConfig, ValuesAreReadBack) {
    const auto o = read({"--mail_from",
                         "ops@example.org",
                         "--webhook_timeout",
                         "3",
                         "--smtp_timeout",
                         "4",
                         "--webhook_signing",
                         "true",
                         "--webhook_retries",
                         "2",
                         "--email_retries",
                         "1",
                         "--notify_max_concurrent",
                         "9",
                         "--notify_account_max_concurrent",
                         "3",
                         "--notify_shutdown_grace",
                         "0",
                         "--notify_lease_seconds",
                         "9"});
    EXPECT_EQ(o.mail_from, "ops@example.org");
    EXPECT_EQ(o.webhook_timeout, 3);
    EXPECT_EQ(o.smtp_timeout, 4);
    EXPECT_TRUE(o.webhook_signing);
    EXPECT_EQ(o.webhook_retries, 2);
    EXPECT_EQ(o.email_retries, 1);
    EXPECT_EQ(o.max_concurrent, 9);
    EXPECT_EQ(o.effective_account_max_concurrent(), 3);
    EXPECT_EQ(o.shutdown_grace, 0);
    EXPECT_EQ(o.lease_seconds, 9);
    EXPECT_EQ(o.effective_lease_seconds(), 9);
}

TEST(NotifierConfig, RangeBoundsAreInclusive) {
    struct Case {
        const char* key;
        int lo, hi;
    };
    for (const Case& c :
         {Case{"webhook_timeout", 1, 300}, Case{"smtp_timeout", 1, 600},
          Case{"webhook_retries", 0, 20}, Case{"email_retries", 0, 20},
          Case{"notify_max_concurrent", 1, 10000}, Case{"notify_account_max_concurrent", 0, 10000},
          Case{"notify_shutdown_grace", 0, 60}}) {
        const std::string opt = std::string("--") + c.key;
        EXPECT_EQ(error_of({opt, std::to_string(c.lo)}), "") << c.key;
        EXPECT_EQ(error_of({opt, std::to_string(c.hi)}), "") << c.key;
        for (int bad : {c.lo - 1, c.hi + 1}) {
            const std::string e = error_of({opt, std::to_string(bad)});
            EXPECT_NE(e.find(std::string("'") + c.key + "'"), std::string::npos)
                << c.key << "=" << bad << ": " << e;
            EXPECT_NE(e.find(std::to_string(c.lo) + " and " + std::to_string(c.hi)),
                      std::string::npos)
                << e;
        }
    }
}

TEST(NotifierConfig, LeaseMustOutlastTheLongestTimeout) {
    // The longer timeout (smtp_timeout 60 by default) + 5 s is the minimum.
    EXPECT_EQ(error_of({"--notify_lease_seconds", "65"}), "");
    const std::string e = error_of({"--notify_lease_seconds", "64"});
    EXPECT_NE(e.find("'notify_lease_seconds'"), std::string::npos) << e;
    EXPECT_NE(e.find("65"), std::string::npos) << e;
    EXPECT_EQ(error_of({"--webhook_timeout", "20", "--smtp_timeout", "10", "--notify_lease_seconds",
                        "25"}),
              "");
    EXPECT_NE(error_of({"--webhook_timeout", "20", "--smtp_timeout", "10", "--notify_lease_seconds",
                        "24"}),
              "");
    EXPECT_NE(error_of({"--notify_lease_seconds", "-1"}), "");
    EXPECT_NE(error_of({"--notify_lease_seconds", "86401"}), "");
    EXPECT_EQ(read({"--webhook_timeout", "200"}).effective_lease_seconds(), 320);
}

TEST(NotifierConfig, MailFromMustBeAPlainAddress) {
    for (const char* bad :
         {"enconvert", "Ops <ops@example.org>", "a@b.example\r\nBcc: x@y.z", "a@@b.example"}) {
        const std::string e = error_of({"--mail_from", bad});
        EXPECT_NE(e.find("'mail_from'"), std::string::npos) << bad << ": " << e;
    }
}

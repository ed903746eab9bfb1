#include "notify/notifier_config.h"

#include <algorithm>

#include "config/worker_config.h"
#include "notify/email_message.h"

namespace enconvert::notify {

namespace po = boost::program_options;

namespace {

void check_range(int value, int lo, int hi, const char* key) {
    if (value < lo || value > hi) {
        throw config::ConfigError(std::string("setting '") + key + "' must be between " +
                                  std::to_string(lo) + " and " + std::to_string(hi));
    }
}

template <typename T>
T get(const po::variables_map& vm, const char* key, T fallback) {
    const auto it = vm.find(key);
    return it == vm.end() || it->second.empty() ? fallback : it->second.as<T>();
}

}  // namespace

int NotifierOptions::effective_lease_seconds() const {
    // Longer than any single attempt can take, DNS and queueing included: a
    // live notifier never loses a row it is still sending.
    return lease_seconds != 0 ? lease_seconds : std::max(webhook_timeout, smtp_timeout) + 120;
}

int NotifierOptions::effective_account_max_concurrent() const {
    if (account_max_concurrent == 0) return std::max(1, max_concurrent / 2);
    return std::min(account_max_concurrent, max_concurrent);
}

void add_notifier_options(po::options_description& d) {
    d.add_options()                                                                        //
        ("mail_from", po::value<std::string>(), "sender address of notification email")    //
        ("webhook_timeout", po::value<int>(), "seconds a webhook receiver has to answer")  //
        ("smtp_timeout", po::value<int>(), "seconds for one SMTP delivery")                //
        ("webhook_signing", po::value<bool>(), "sign webhooks (Standard Webhooks)")        //
        ("webhook_retries", po::value<int>(), "webhook retries after a failure")           //
        ("email_retries", po::value<int>(), "email retries after a transient failure")     //
        ("notify_max_concurrent", po::value<int>(), "notifications in flight per worker")  //
        ("notify_account_max_concurrent", po::value<int>(),
         "one account's notifications in flight per worker; 0: half of notify_max_concurrent")   //
        ("notify_shutdown_grace", po::value<int>(), "seconds deliveries get to finish on stop")  //
        ("notify_lease_seconds", po::value<int>(), "seconds a claimed notification is held");
}

NotifierOptions read_notifier_options(const po::variables_map& vm) {
    NotifierOptions o;
    o.mail_from = get(vm, "mail_from", o.mail_from);
    o.webhook_timeout = get(vm, "webhook_timeout", o.webhook_timeout);
    o.smtp_timeout = get(vm, "smtp_timeout", o.smtp_timeout);
    o.webhook_signing = get(vm, "webhook_signing", o.webhook_signing);
    o.webhook_retries = get(vm, "webhook_retries", o.webhook_retries);
    o.email_retries = get(vm, "email_retries", o.email_retries);
    o.max_concurrent = get(vm, "notify_max_concurrent", o.max_concurrent);
    o.account_max_concurrent = get(vm, "notify_account_max_concurrent", o.account_max_concurrent);
    o.shutdown_grace = get(vm, "notify_shutdown_grace", o.shutdown_grace);
    o.lease_seconds = get(vm, "notify_lease_seconds", o.lease_seconds);
    check_range(o.webhook_timeout, 1, 300, "webhook_timeout");
    check_range(o.smtp_timeout, 1, 600, "smtp_timeout");
    check_range(o.webhook_retries, 0, 20, "webhook_retries");
    check_range(o.email_retries, 0, 20, "email_retries");
    check_range(o.max_concurrent, 1, 10000, "notify_max_concurrent");
    check_range(o.account_max_concurrent, 0, 10000, "notify_account_max_concurrent");
    // stack.sh waits 10 s for a worker to exit before it kills it.
    check_range(o.shutdown_grace, 0, 60, "notify_shutdown_grace");
    // Shorter than an attempt may take, a live notifier's row would be
    // settled as interrupted by another worker while it is still sending.
    const int min_lease = std::max(o.webhook_timeout, o.smtp_timeout) + 5;
    if (o.lease_seconds != 0 && (o.lease_seconds < min_lease || o.lease_seconds > 24 * 3600)) {
        throw config::ConfigError(
            "setting 'notify_lease_seconds' must be 0 (automatic) or between " +
            std::to_string(min_lease) +
            " (the longer of webhook_timeout and smtp_timeout + 5) and " +
            std::to_string(24 * 3600));
    }
    if (!valid_mailbox(o.mail_from)) {
        throw config::ConfigError("setting 'mail_from' must be a plain address like a@b.example");
    }
    return o;
}

}  // namespace enconvert::notify

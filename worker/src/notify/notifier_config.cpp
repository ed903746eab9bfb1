#include "notify/notifier_config.h"

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

void add_notifier_options(po::options_description& d) {
    d.add_options()                                                                        //
        ("mail_from", po::value<std::string>(), "sender address of notification email")    //
        ("webhook_timeout", po::value<int>(), "seconds a webhook receiver has to answer")  //
        ("smtp_timeout", po::value<int>(), "seconds for one SMTP delivery")                //
        ("webhook_signing", po::value<bool>(), "sign webhooks (Standard Webhooks)")        //
        ("webhook_retries", po::value<int>(), "webhook retries after a failure")           //
        ("email_retries", po::value<int>(), "email retries after a transient failure")     //
        ("notify_max_concurrent", po::value<int>(), "notifications in flight per worker");
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
    check_range(o.webhook_timeout, 1, 300, "webhook_timeout");
    check_range(o.smtp_timeout, 1, 600, "smtp_timeout");
    check_range(o.webhook_retries, 0, 20, "webhook_retries");
    check_range(o.email_retries, 0, 20, "email_retries");
    check_range(o.max_concurrent, 1, 10000, "notify_max_concurrent");
    if (!valid_mailbox(o.mail_from)) {
        throw config::ConfigError("setting 'mail_from' must be a plain address like a@b.example");
    }
    return o;
}

}  // namespace enconvert::notify

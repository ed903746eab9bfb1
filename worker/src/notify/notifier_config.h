// The notifier's own configuration keys. They live in the worker's config
// file next to the core keys: the core adds them to its options_description
// with add_notifier_options() and reads them back with
// read_notifier_options(). Keys shared with other parts (allowed_networks,
// smtp_url, mail_dir, tls_ca_file) stay in config::WorkerConfig and are
// passed to the Notifier in NotifierSettings. Documented in
// docs/notifications.md.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace enconvert::notify {

struct NotifierOptions {
    std::string mail_from = "enconvert@localhost";  // envelope and From: address
    int webhook_timeout = 30;                       // seconds, the whole request
    int smtp_timeout = 60;                          // seconds, the whole SMTP session
    bool webhook_signing = false;                   // Standard Webhooks headers
    int webhook_retries = 0;                        // extra attempts after a failure
    int email_retries = 0;                          // extra attempts after a transient failure
    int max_concurrent = 64;                        // deliveries in flight per worker
    // ... of them, one account's at most; 0: half of max_concurrent (at
    // least 1). A tenant whose receivers do not answer holds no more.
    int account_max_concurrent = 0;
    // On SIGTERM: seconds in-flight deliveries get to finish before they are
    // abandoned, so a routine restart does not turn them into failures.
    int shutdown_grace = 5;
    // Seconds a claimed row belongs to its notifier; after that another
    // worker settles it as interrupted. 0: the longest timeout + 120 s.
    int lease_seconds = 0;

    // The lease actually used: lease_seconds, or the automatic value.
    int effective_lease_seconds() const;
    // One account's share actually used (never more than max_concurrent).
    int effective_account_max_concurrent() const;
};

void add_notifier_options(boost::program_options::options_description& d);

// Reads and checks the values (after po::notify). Throws
// config::ConfigError naming the key when a value is out of range.
NotifierOptions read_notifier_options(const boost::program_options::variables_map& vm);

}  // namespace enconvert::notify

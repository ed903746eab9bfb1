// Worker configuration: an INI file (key = value) plus command-line
// overrides of every key (--key value). Keys and defaults: docs/internals.md.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "notify/notifier_config.h"
#include "storage/storage_config.h"

namespace enconvert::config {

struct WorkerConfig {
    std::string database_url;
    std::string listen;
    std::string worker_id;  // default <hostname>-<pid>
    std::string storage_dir;
    std::string signing_secret_file;
    std::string public_url;
    int presign_ttl = 3600;
    std::string renderer_binary;
    int renderers = 1;
    int views_per_renderer = 2;
    std::string display;
    int lease_seconds = 20;
    int max_attempts = 3;
    int storage_min_free_mb = 256;
    int storage_full_retry_seconds = 30;
    int storage_full_give_up_seconds = 24 * 3600;
    // Fairness and back-pressure (docs/reliability.md): tasks of one account
    // in flight on all workers (0: no limit); unfinished tasks the queue
    // takes in all and per account before new jobs are refused (0: no bound).
    int account_max_in_flight = 0;
    int queue_max_tasks = 100000;
    int account_queue_max_tasks = 10000;
    std::string allowed_networks;
    // WebKit's sandbox for the web processes (render/web_sandbox_mode.h).
    std::string web_process_sandbox = "auto";
    std::string smtp_url;
    // The password of smtp_url's user, kept out of this file (0644).
    std::string smtp_password_file;
    std::string mail_dir;
    std::string tls_ca_file;
    // Retention (janitor/janitor.h): finished jobs' files and rows are
    // deleted after retention_seconds (0: kept forever); their 410 answer
    // is remembered expired_job_days longer.
    int retention_seconds = 24 * 3600;
    int expired_job_days = 30;
    int janitor_interval_seconds = 60;
    std::string log_level = "info";  // debug, info, warning, error
    // host:port of the Prometheus endpoint; empty: none.
    std::string metrics_listen = "127.0.0.1:9469";
    std::string schema_dir;  // empty: config::installed_schema_dir()
    // Several hosts (docs/scaling.md): CURVE on a tcp:// listen, and the
    // heartbeats that drop a silent nginx host's connection.
    std::string curve_secret_key_file;       // empty: no CURVE
    std::string curve_allowed_clients_file;  // client public keys, one a line
    bool allow_plain_tcp = false;            // tcp:// beyond loopback without CURVE
    int heartbeat_interval_ms = 1000;
    int heartbeat_timeout_ms = 3000;
    // Intake loops, each on its own thread and database connection. More
    // than one serves reads (status polls) side by side, but splits the
    // submissions into smaller groups, each with its own WAL flush
    // (docs/internals.md "Accepting jobs: group commit").
    int intake_threads = 1;
    // Website capture (docs/website-capture.md): concurrent discoveries per
    // worker, and the time one fetch and one whole discovery may take (the
    // request waits for it: keep it below the module's enconvert_sync_timeout).
    int crawl_workers = 2;
    int crawl_page_timeout_seconds = 15;
    int crawl_time_budget_seconds = 60;
    notify::NotifierOptions notify;   // the notifier's own keys
    storage::StorageOptions storage;  // storage_backend and s3_* keys
};

// A configuration the worker cannot run with; what() names the key.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class ConfigPurpose {
    serve,  // every required key must be present
    admin,  // only database_url is needed (key commands)
};

// Parses `args` (the command-line words after the subcommand, e.g.
// {"--config", "w.ini", "--renderers", "4"}). `--config FILE` names the INI
// file; command-line values win over the file. Unknown keys and stray words
// are errors, so typos do not silently do nothing. Throws ConfigError.
WorkerConfig parse_worker_config(const std::vector<std::string>& args, ConfigPurpose purpose,
                                 const std::string& default_renderer_binary);

// Reads a secret file named by `setting`: its content with trailing
// whitespace removed. Throws ConfigError if it is unreadable or empty.
std::string read_secret_file(const std::string& path, const std::string& setting);

// The signing secret (read_secret_file of signing_secret_file); throws
// ConfigError when it is shorter than kMinSigningSecretBytes.
inline constexpr std::size_t kMinSigningSecretBytes = 32;
std::string read_signing_secret(const std::string& path);

}  // namespace enconvert::config

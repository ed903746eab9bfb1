#include "config/worker_config.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>

#include "config/listen_endpoint.h"
#include "http/metrics_server.h"
#include "log/log.h"
#include "notify/transfer.h"
#include "render/web_sandbox_mode.h"

namespace enconvert::config {

namespace po = boost::program_options;

namespace {

po::options_description describe(WorkerConfig& c) {
    po::options_description d("worker options");
    d.add_options()                                                                     //
        ("database_url", po::value(&c.database_url), "libpq connection string")         //
        ("listen", po::value(&c.listen), "ZeroMQ endpoint the ROUTER binds")            //
        ("worker_id", po::value(&c.worker_id), "lease owner name")                      //
        ("storage_dir", po::value(&c.storage_dir), "local storage root")                //
        ("signing_secret_file", po::value(&c.signing_secret_file), "HMAC secret file")  //
        ("public_url", po::value(&c.public_url), "base of presigned URLs")              //
        ("presign_ttl", po::value(&c.presign_ttl)->default_value(3600), "seconds")      //
        ("renderer_binary", po::value(&c.renderer_binary), "enconvert-render path")     //
        ("renderers", po::value(&c.renderers)->default_value(1), "renderer children")   //
        ("views_per_renderer", po::value(&c.views_per_renderer)->default_value(2),
         "concurrent renders per child")                                                     //
        ("display", po::value(&c.display), "X display; empty starts Xvfb")                   //
        ("lease_seconds", po::value(&c.lease_seconds)->default_value(20), "task lease")      //
        ("max_attempts", po::value(&c.max_attempts)->default_value(3), "attempts per task")  //
        ("storage_min_free_mb", po::value(&c.storage_min_free_mb)->default_value(256),
         "free space below which no new task is taken")  //
        ("storage_full_retry_seconds", po::value(&c.storage_full_retry_seconds)->default_value(30),
         "wait before rendering again a result that found the storage full")  //
        ("storage_full_give_up_seconds",
         po::value(&c.storage_full_give_up_seconds)->default_value(24 * 3600),
         "time a task waits for room in a full storage before it fails; 0: for ever")  //
        ("account_max_in_flight", po::value(&c.account_max_in_flight)->default_value(0),
         "tasks of one account in flight on all workers; 0: no limit")  //
        ("queue_max_tasks", po::value(&c.queue_max_tasks)->default_value(100000),
         "unfinished tasks of all accounts before jobs are refused (503); 0: no bound")  //
        ("account_queue_max_tasks", po::value(&c.account_queue_max_tasks)->default_value(10000),
         "unfinished tasks of one account before its jobs are refused (429); 0: no bound")   //
        ("allowed_networks", po::value(&c.allowed_networks), "CIDRs exempt from deny list")  //
        ("web_process_sandbox", po::value(&c.web_process_sandbox)->default_value("auto"),
         "WebKit sandbox for web processes: on, off, auto")  //
        ("smtp_url", po::value(&c.smtp_url), "SMTP relay")   //
        ("smtp_password_file", po::value(&c.smtp_password_file),
         "password of smtp_url's user")                                       //
        ("mail_dir", po::value(&c.mail_dir), ".eml directory without relay")  //
        ("tls_ca_file", po::value(&c.tls_ca_file), "extra CA bundle")         //
        ("schema_dir", po::value(&c.schema_dir), "migrations for `migrate`")  //
        ("retention_seconds", po::value(&c.retention_seconds)->default_value(24 * 3600),
         "finished jobs' files and rows deleted after this; 0: kept")  //
        ("expired_job_days", po::value(&c.expired_job_days)->default_value(30),
         "days an expired job still answers 410")  //
        ("janitor_interval_seconds", po::value(&c.janitor_interval_seconds)->default_value(60),
         "seconds between retention sweeps")                                                 //
        ("log_level", po::value(&c.log_level)->default_value("info"), "least level logged")  //
        ("metrics_listen", po::value(&c.metrics_listen)->default_value("127.0.0.1:9469"),
         "address of the Prometheus /metrics endpoint; empty: none")  //
        ("curve_secret_key_file", po::value(&c.curve_secret_key_file),
         "CURVE secret key of this worker (Z85)")  //
        ("curve_allowed_clients_file", po::value(&c.curve_allowed_clients_file),
         "CURVE public keys of the nginx hosts, one a line")  //
        ("allow_plain_tcp", po::value(&c.allow_plain_tcp)->default_value(false),
         "accept a non-loopback tcp:// listen without CURVE")  //
        ("heartbeat_interval_ms", po::value(&c.heartbeat_interval_ms)->default_value(1000),
         "ZeroMQ heartbeat interval")  //
        ("heartbeat_timeout_ms", po::value(&c.heartbeat_timeout_ms)->default_value(3000),
         "silence after which a peer's connection is dropped")  //
        ("intake_threads", po::value(&c.intake_threads)->default_value(1),
         "intake loops, each with its own database connection")  //
        ("crawl_workers", po::value(&c.crawl_workers)->default_value(2),
         "website discoveries run at once")  //
        ("crawl_page_timeout_seconds", po::value(&c.crawl_page_timeout_seconds)->default_value(15),
         "one fetch of a website discovery")  //
        ("crawl_time_budget_seconds", po::value(&c.crawl_time_budget_seconds)->default_value(60),
         "one whole website discovery");
    notify::add_notifier_options(d);
    storage::add_storage_options(d);
    return d;
}

std::string default_worker_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::string name = host[0] ? host : "worker";
    return name + "-" + std::to_string(getpid());
}

void require(const std::string& value, const char* key) {
    if (value.empty()) {
        throw ConfigError(std::string("missing required setting '") + key + "'");
    }
}

void check_range(int value, int lo, int hi, const char* key) {
    if (value < lo || value > hi) {
        throw ConfigError(std::string("setting '") + key + "' must be between " +
                          std::to_string(lo) + " and " + std::to_string(hi));
    }
}

// smtp_password_file is the password of smtp_url's user: the URL names
// the user and not a password of its own (which would be two passwords).
void check_smtp_password_file(const WorkerConfig& c) {
    if (c.smtp_password_file.empty()) return;
    const notify::SmtpUrlCredentials named = notify::smtp_url_credentials(c.smtp_url);
    if (!named.user)
        throw ConfigError(
            "setting 'smtp_password_file' needs an 'smtp_url' with a user name "
            "(smtps://USER@host or smtp://USER@host)");
    if (named.password)
        throw ConfigError(
            "setting 'smtp_url' carries a password and 'smtp_password_file' names another: "
            "keep the password in the file alone (smtp_url is readable by every local user)");
}

// A tcp:// listen beyond loopback carries API keys: CURVE, or an explicit
// allow_plain_tcp. CURVE needs both key files (docs/scaling.md).
void check_listen_security(const WorkerConfig& c) {
    const auto listen = parse_listen_endpoint(c.listen);
    if (!listen)
        throw ConfigError(
            "setting 'listen' must be ipc://PATH or tcp://IP:PORT (an IP address "
            "literal, [IPv6] or *, and a port 1..65535)");
    const bool curve = !c.curve_secret_key_file.empty();
    if (curve != !c.curve_allowed_clients_file.empty())
        throw ConfigError(
            "settings 'curve_secret_key_file' and 'curve_allowed_clients_file' go together: "
            "set both for CURVE, or neither");
    const bool tcp = listen->transport == ListenEndpoint::Transport::tcp;
    if (curve && !tcp)
        throw ConfigError(
            "setting 'curve_secret_key_file' needs a tcp:// 'listen': the module "
            "uses CURVE for tcp:// backends only (ipc:// is guarded by file "
            "permissions)");
    if (tcp && !listen->loopback && !curve && !c.allow_plain_tcp)
        throw ConfigError("setting 'listen' (" + c.listen +
                          ") is reachable beyond this host: set 'curve_secret_key_file' and "
                          "'curve_allowed_clients_file' (docs/scaling.md), or "
                          "'allow_plain_tcp = true' on a network you trust entirely");
    check_range(c.heartbeat_interval_ms, 100, 60000, "heartbeat_interval_ms");
    check_range(c.heartbeat_timeout_ms, c.heartbeat_interval_ms, 600000, "heartbeat_timeout_ms");
    check_range(c.crawl_workers, 1, 64, "crawl_workers");
    check_range(c.intake_threads, 1, 64, "intake_threads");
    check_range(c.crawl_page_timeout_seconds, 1, 300, "crawl_page_timeout_seconds");
    check_range(c.crawl_time_budget_seconds, c.crawl_page_timeout_seconds, 3600,
                "crawl_time_budget_seconds");
}

}  // namespace

WorkerConfig parse_worker_config(const std::vector<std::string>& args, ConfigPurpose purpose,
                                 const std::string& default_renderer_binary) {
    WorkerConfig c;
    std::string config_file;
    po::options_description all = describe(c);
    all.add_options()("config", po::value(&config_file), "INI configuration file");

    po::variables_map vm;
    try {
        // Command line first: in a variables_map the first stored value wins,
        // which is what gives command-line overrides precedence over the file.
        po::store(po::command_line_parser(args).options(all).run(), vm);
        if (vm.count("config")) {
            const std::string path = vm["config"].as<std::string>();
            std::ifstream in(path);
            if (!in) throw ConfigError("cannot read config file '" + path + "'");
            po::options_description file_opts = describe(c);
            po::store(po::parse_config_file(in, file_opts, /*allow_unregistered=*/false), vm);
        }
        po::notify(vm);
        c.notify = notify::read_notifier_options(vm);
        c.storage = storage::read_storage_options(vm, purpose == ConfigPurpose::serve);
    } catch (const ConfigError&) {
        throw;
    } catch (const po::error& e) {
        throw ConfigError(std::string("configuration: ") + e.what());
    }

    require(c.database_url, "database_url");
    if (!log::parse_level(c.log_level))
        throw ConfigError("setting 'log_level' must be one of debug, info, warning, error");
    if (!render::parse_sandbox_mode(c.web_process_sandbox))
        throw ConfigError("setting 'web_process_sandbox' must be one of on, off, auto");
    if (purpose == ConfigPurpose::serve) {
        require(c.listen, "listen");
        require(c.storage_dir, "storage_dir");
        require(c.signing_secret_file, "signing_secret_file");
        check_range(c.presign_ttl, 1, 7 * 24 * 3600, "presign_ttl");
        check_range(c.renderers, 1, 64, "renderers");
        check_range(c.views_per_renderer, 1, 64, "views_per_renderer");
        check_range(c.lease_seconds, 3, 3600, "lease_seconds");
        check_range(c.max_attempts, 1, 100, "max_attempts");
        check_range(c.storage_min_free_mb, 0, 1024 * 1024, "storage_min_free_mb");
        check_range(c.storage_full_retry_seconds, 1, 24 * 3600, "storage_full_retry_seconds");
        check_range(c.storage_full_give_up_seconds, 0, 365 * 24 * 3600,
                    "storage_full_give_up_seconds");
        check_range(c.account_max_in_flight, 0, 1000000, "account_max_in_flight");
        check_range(c.queue_max_tasks, 0, 1000000000, "queue_max_tasks");
        check_range(c.account_queue_max_tasks, 0, 1000000000, "account_queue_max_tasks");
        check_range(c.retention_seconds, 0, 3650 * 24 * 3600, "retention_seconds");
        check_range(c.expired_job_days, 0, 3650, "expired_job_days");
        check_range(c.janitor_interval_seconds, 1, 24 * 3600, "janitor_interval_seconds");
        // A download link must never outlive the file it points at.
        if (c.retention_seconds > 0 && c.presign_ttl > c.retention_seconds)
            throw ConfigError("setting 'presign_ttl' (" + std::to_string(c.presign_ttl) +
                              " s) must not be longer than 'retention_seconds' (" +
                              std::to_string(c.retention_seconds) + " s)");
        if (!c.metrics_listen.empty() && !http::parse_listen_address(c.metrics_listen))
            throw ConfigError(
                "setting 'metrics_listen' must be IP:PORT (e.g. 127.0.0.1:9469 or "
                "[::1]:9469), or empty for none");
        check_listen_security(c);
        check_smtp_password_file(c);
    }
    if (c.worker_id.empty()) c.worker_id = default_worker_id();
    if (c.renderer_binary.empty()) c.renderer_binary = default_renderer_binary;
    while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
    return c;
}

std::string read_secret_file(const std::string& path, const std::string& setting) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("cannot read " + setting + " '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string secret = ss.str();
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
        secret.pop_back();
    }
    if (secret.empty()) throw ConfigError(setting + " '" + path + "' is empty");
    return secret;
}

// A short secret can be found by trying: anyone holding one link could then
// sign links to every tenant's files. At least the hash's length (RFC 2104),
// as nginx's module requires of the same file.
std::string read_signing_secret(const std::string& path) {
    std::string secret = read_secret_file(path, "signing_secret_file");
    if (secret.size() < kMinSigningSecretBytes)
        throw ConfigError("signing_secret_file '" + path + "' holds " +
                          std::to_string(secret.size()) + " bytes, at least " +
                          std::to_string(kMinSigningSecretBytes) +
                          " are needed (e.g. `openssl rand -hex 32`)");
    return secret;
}

}  // namespace enconvert::config

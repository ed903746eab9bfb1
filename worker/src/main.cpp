// enconvert-worker: `serve` runs the daemon; `key …` manages API keys.
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "admin/curve_keygen_command.h"
#include "admin/key_command.h"
#include "admin/migrate_command.h"
#include "config/curve_keys.h"
#include "config/install_paths.h"
#include "config/worker_config.h"
#include "db/connection_defaults.h"
#include "db/migrations.h"
#include "http/metrics_server.h"
#include "intake/intake.h"
#include "janitor/janitor.h"
#include "log/log.h"
#include "notify/ca_bundle.h"
#include "notify/notifier.h"
#include "render/renderer_pool.h"
#include "render/xvfb.h"
#include "scheduler/batch_archiver.h"
#include "scheduler/scheduler.h"
#include "scheduler/site_discoverer.h"
#include "storage/backend.h"

namespace {

using namespace enconvert;

constexpr const char* kUsage =
    "usage: enconvert-worker serve --config FILE [--key value ...]\n"
    "       enconvert-worker migrate --config FILE [--schema_dir DIR]\n"
    "       enconvert-worker key create --account NAME --config FILE\n"
    "       enconvert-worker key list --config FILE\n"
    "       enconvert-worker key revoke --id N --config FILE\n"
    "       enconvert-worker curve-keygen --out PATH\n";

constexpr log::Logger kLog{"main"};

// Runs one component's loop; an unexpected exception stops the whole process
// (by signalling ourselves) instead of leaving a half-working daemon.
void run_component(const char* name, std::atomic<int>& exit_code,
                   const std::function<void()>& body) {
    try {
        body();
    } catch (const std::exception& e) {
        log::write(log::Level::error, name, "fatal", {{"error", e.what()}});
        exit_code = 1;
        kill(getpid(), SIGTERM);
    }
}

// A component thread that is always stopped and joined when it goes out of
// scope, also when startup fails after it was started.
class StoppingThread {
  public:
    StoppingThread(std::atomic<bool>& stop, std::function<void()> body)
        : stop_(stop), thread_(std::move(body)) {}
    ~StoppingThread() { join(); }
    StoppingThread(const StoppingThread&) = delete;
    StoppingThread& operator=(const StoppingThread&) = delete;
    void join() {
        if (!thread_.joinable()) return;
        stop_ = true;
        thread_.join();
    }

  private:
    std::atomic<bool>& stop_;
    std::thread thread_;
};

int serve(const std::vector<std::string>& args) {
    // Block the stop signals before any thread starts so every thread
    // inherits the mask and only sigwait() below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    // Not a stop: its default action ended the worker without handing
    // anything back, and systemd took that for a clean exit (no restart).
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a dead renderer must not kill us via its pipe

    const config::WorkerConfig cfg = config::parse_worker_config(
        args, config::ConfigPurpose::serve, config::installed_renderer_binary());
    log::set_min_level(*log::parse_level(cfg.log_level));
    const std::string secret = config::read_signing_secret(cfg.signing_secret_file);
    {
        // A worker upgraded before its database: every claim of a query
        // the old schema lacks would fail, and the worker would look
        // healthy meanwhile.
        pqxx::connection conn(db::with_connection_defaults(cfg.database_url, "startup"));
        if (const auto behind = db::schema_behind(conn)) throw db::MigrationError(*behind);
    }
    if (access(cfg.renderer_binary.c_str(), X_OK) != 0) {
        throw config::ConfigError("renderer_binary '" + cfg.renderer_binary +
                                  "' is not an executable file");
    }

    // storage_backend = local | s3; `storage` is used by the scheduler and
    // the janitor, the presigner signs every answer's download links.
    const std::unique_ptr<storage::Storage> storage_backend = storage::make_storage(
        cfg.storage, cfg.storage_dir, static_cast<std::uint64_t>(cfg.storage_min_free_mb) << 20,
        cfg.tls_ca_file);
    storage::Storage& storage = *storage_backend;
    storage::Presigner presigner =
        storage::make_presigner(cfg.storage, secret, cfg.public_url, cfg.presign_ttl);
    // Before any thread starts: the notifier initialises libcurl globally.
    notify::NotifierSettings notifier_settings;
    notifier_settings.database_url = cfg.database_url;
    notifier_settings.worker_id = cfg.worker_id;
    notifier_settings.allowed_networks = cfg.allowed_networks;
    notifier_settings.smtp_url = cfg.smtp_url;
    if (!cfg.smtp_password_file.empty())
        notifier_settings.smtp_password =
            config::read_secret_file(cfg.smtp_password_file, "smtp_password_file");
    notifier_settings.mail_dir = cfg.mail_dir;
    notifier_settings.tls_ca_file = cfg.tls_ca_file;
    notifier_settings.options = cfg.notify;
    notify::Notifier notifier(std::move(notifier_settings), presigner);

    std::unique_ptr<render::Xvfb> xvfb;
    std::string display = cfg.display;
    if (display.empty()) {
        xvfb = std::make_unique<render::Xvfb>();
        display = xvfb->display();
        kLog.info("started Xvfb", {{"display", display}});
    }

    std::atomic<bool> stop{false};
    std::atomic<int> exit_code{0};

    // Bound first, so a taken port fails the start, and serving by the time
    // the intake answers (a stack is "up" when /v1/health says so).
    std::unique_ptr<http::MetricsServer> metrics;
    if (!cfg.metrics_listen.empty())
        metrics = std::make_unique<http::MetricsServer>(
            *http::parse_listen_address(cfg.metrics_listen), cfg.database_url);
    StoppingThread metrics_thread(stop, [&] {
        if (metrics) run_component("metrics", exit_code, [&] { metrics->run(stop); });
    });

    zmq::context_t zmq_ctx(1);
    intake::IntakeOptions intake_options;
    intake_options.listen = cfg.listen;
    intake_options.database_url = cfg.database_url;
    intake_options.queue_limits = {cfg.queue_max_tasks, cfg.account_queue_max_tasks};
    intake_options.retention = std::chrono::seconds(cfg.retention_seconds);
    if (!cfg.curve_secret_key_file.empty()) {
        intake_options.curve_secret_key =
            config::read_curve_secret_key_file(cfg.curve_secret_key_file, "curve_secret_key_file")
                .secret_key;
        intake_options.curve_allowed_clients =
            config::read_curve_allowed_clients(cfg.curve_allowed_clients_file);
    }
    intake_options.heartbeat_interval = std::chrono::milliseconds(cfg.heartbeat_interval_ms);
    intake_options.heartbeat_timeout = std::chrono::milliseconds(cfg.heartbeat_timeout_ms);
    intake_options.loops = cfg.intake_threads;
    intake::Intake intake(zmq_ctx, intake_options, presigner);
    // The intake answers (health, status, async accepts) while the renderer
    // children are still starting up, which takes seconds.
    StoppingThread intake_thread(
        stop, [&] { run_component("intake", exit_code, [&] { intake.run(stop); }); });

    render::RendererPool::Options pool_options;
    pool_options.binary = cfg.renderer_binary;
    pool_options.display = display;
    if (xvfb) {  // an operator's display: the worker's own XAUTHORITY
        pool_options.xauthority = xvfb->authority();
        pool_options.web_xauthority_dir = xvfb->authority_directory();
    }
    pool_options.processes = cfg.renderers;
    pool_options.views_per_process = cfg.views_per_renderer;
    pool_options.allowed_networks = cfg.allowed_networks;
    pool_options.log_level = cfg.log_level;
    pool_options.web_process_sandbox = cfg.web_process_sandbox;
    scheduler::SchedulerOptions sched_options;
    sched_options.database_url = cfg.database_url;
    sched_options.worker_id = cfg.worker_id;
    sched_options.lease_seconds = cfg.lease_seconds;
    sched_options.retry.max_attempts = cfg.max_attempts;
    sched_options.retry.storage_full_retry_seconds = cfg.storage_full_retry_seconds;
    sched_options.retry.storage_full_give_up_seconds = cfg.storage_full_give_up_seconds;
    sched_options.account_max_in_flight = cfg.account_max_in_flight;
    // Every component that takes work is built (and connected to the
    // database) before any of them starts: a database lost after one had
    // claimed a task and before the next connected failed the start and
    // killed the worker with that task in hand. Now such a loss either
    // fails the start before any work is taken, or finds every component
    // connected and reconnecting by itself.
    scheduler::Scheduler sched(sched_options, std::make_unique<render::RendererPool>(pool_options),
                               storage);
    // Batch ZIPs (output_format): built once a batch's tasks are all done.
    scheduler::ArchiverOptions archiver_options{cfg.database_url, cfg.worker_id,
                                                cfg.lease_seconds * 3};
    archiver_options.storage_full_retry = std::chrono::seconds(cfg.storage_full_retry_seconds);
    archiver_options.max_attempts = cfg.max_attempts;
    scheduler::BatchArchiver archiver(archiver_options, storage);
    // Website captures: each discoverer finds one site's pages
    // at a time, off the intake's loop.
    scheduler::DiscovererOptions discoverer_options;
    discoverer_options.database_url = cfg.database_url;
    discoverer_options.worker_id = cfg.worker_id;
    discoverer_options.allowed_networks = cfg.allowed_networks;
    discoverer_options.ca_bundle = notify::combined_ca_bundle(cfg.tls_ca_file);
    discoverer_options.page_budget = std::chrono::seconds(cfg.crawl_page_timeout_seconds);
    discoverer_options.total_budget = std::chrono::seconds(cfg.crawl_time_budget_seconds);
    discoverer_options.max_attempts = cfg.max_attempts;
    std::vector<std::unique_ptr<scheduler::SiteDiscoverer>> discoverers;
    for (int i = 0; i < cfg.crawl_workers; ++i)
        discoverers.push_back(std::make_unique<scheduler::SiteDiscoverer>(discoverer_options));
    std::unique_ptr<janitor::Janitor> janitor;
    if (cfg.retention_seconds > 0) {
        janitor::JanitorOptions janitor_options;
        janitor_options.database_url = cfg.database_url;
        janitor_options.retention = std::chrono::seconds(cfg.retention_seconds);
        janitor_options.tombstone_retention = std::chrono::hours(24) * cfg.expired_job_days;
        janitor_options.interval = std::chrono::seconds(cfg.janitor_interval_seconds);
        janitor = std::make_unique<janitor::Janitor>(
            janitor_options, [&storage](const std::string& key) { storage.erase(key); });
    }

    StoppingThread sched_thread(
        stop, [&] { run_component("scheduler", exit_code, [&] { sched.run(stop); }); });
    StoppingThread notify_thread(
        stop, [&] { run_component("notifier", exit_code, [&] { notifier.run(stop); }); });
    StoppingThread archive_thread(
        stop, [&] { run_component("archiver", exit_code, [&] { archiver.run(stop); }); });
    std::vector<std::unique_ptr<StoppingThread>> discover_threads;
    for (const auto& d : discoverers) {
        discover_threads.push_back(
            std::make_unique<StoppingThread>(stop, [d = d.get(), &exit_code, &stop] {
                run_component("discoverer", exit_code, [&] { d->run(stop); });
            }));
    }
    StoppingThread janitor_thread(stop, [&] {
        if (janitor) run_component("janitor", exit_code, [&] { janitor->run(stop); });
    });
    kLog.info("ready", {{"worker_id", cfg.worker_id}});
    // Under systemd (Type=notify) the unit is started only now: the intake
    // answers and the renderers are up. Elsewhere this does nothing.
    sd_notify(0, "READY=1");

    int sig = 0;
    // SIGHUP (a closed terminal, a "reload" habit): there is nothing to
    // reload, the configuration is read at start.
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP)
        kLog.warning(
            "SIGHUP ignored: the configuration is read only at start; restart the "
            "worker to apply a change");
    kLog.info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    sd_notify(0, "STOPPING=1");
    stop = true;
    notify_thread.join();
    archive_thread.join();
    for (auto& t : discover_threads) t->join();
    sched_thread.join();
    intake_thread.join();
    janitor_thread.join();
    metrics_thread.join();
    kLog.info("stopped");
    return exit_code.load();
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> words(argv + 1, argv + argc);
    if (words.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::vector<std::string> rest(words.begin() + 1, words.end());
    if (words[0] == "key") return admin::run_key_command(rest, std::cout, std::cerr);
    if (words[0] == "migrate") return admin::run_migrate_command(rest, std::cout, std::cerr);
    if (words[0] == "curve-keygen")
        return admin::run_curve_keygen_command(rest, std::cout, std::cerr);
    if (words[0] != "serve") {
        std::cerr << kUsage;
        return 2;
    }
    try {
        return serve(rest);
    } catch (const config::ConfigError& e) {
        std::cerr << "enconvert-worker: " << e.what() << "\n";
        return 2;
    } catch (const pqxx::broken_connection&) {
        std::cerr << "enconvert-worker: cannot connect to the database (check database_url)\n";
        return 1;
    } catch (const pqxx::sql_error& e) {
        std::cerr << "enconvert-worker: database error at startup (is the schema migrated?)\n";
        return 1;
    } catch (const zmq::error_t& e) {
        std::cerr << "enconvert-worker: cannot bind the listen endpoint: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "enconvert-worker: " << e.what() << "\n";
        return 1;
    }
}

#include "scheduler/site_discoverer.h"

#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "net/address_policy.h"
#include "scheduler/claim_loop.h"

namespace enconvert::scheduler {

namespace {

constexpr log::Logger kLog{"discoverer"};

// Longer than any discovery (its total budget plus one fetch that started
// just before the budget ran out): a live discoverer never loses its lease.
int lease_seconds(const DiscovererOptions& o) {
    return static_cast<int>((o.total_budget + 2 * o.page_budget).count()) + 30;
}

template <typename T>
T option_or(const nlohmann::json& options, const char* key, T fallback) {
    const auto it = options.find(key);
    if (it == options.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const nlohmann::json::exception&) {
        return fallback;  // the module checked the type; an old row may not have
    }
}

}  // namespace

crawl::CrawlOptions crawl_options_for(const db::DiscoveryJob& job,
                                      const DiscovererOptions& options) {
    crawl::CrawlOptions c;
    c.start_url = job.start_url;
    const std::string mode = option_or<std::string>(job.options, "crawl_mode", "auto");
    c.mode = mode == "sitemap" ? crawl::CrawlMode::sitemap
             : mode == "full"  ? crawl::CrawlMode::full
                               : crawl::CrawlMode::automatic;
    c.max_pages = option_or<std::size_t>(job.options, "max_pages", c.max_pages);
    c.max_depth = option_or<int>(job.options, "max_depth", c.max_depth);
    c.include_patterns = option_or(job.options, "include_patterns", std::vector<std::string>{});
    c.exclude_patterns = option_or(job.options, "exclude_patterns", std::vector<std::string>{});
    // `[]` turns the defaults off; an unusable value (an old row) keeps them
    const auto exclude = job.options.find("exclude_patterns");
    c.exclude_given = exclude != job.options.end() && exclude->is_array() &&
                      (exclude->empty() || !c.exclude_patterns.empty());
    const auto given = [&job](const char* field) {
        const auto it = job.options.find(field);
        return it != job.options.end() && !it->is_null() && !it->empty();
    };
    c.carries_credentials = given("auth") || given("headers") || given("cookies");
    c.page_budget = options.page_budget;
    c.total_budget = options.total_budget;
    return c;
}

db::DiscoveryOutcome outcome_of(const crawl::CrawlResult& result) {
    db::DiscoveryOutcome o;
    o.method = result.method;
    o.total_discovered = static_cast<std::int64_t>(result.total_discovered);
    o.truncated = result.truncated;
    if (!result.error_code.empty() || result.urls.empty()) {
        o.error_code = result.error_code.empty() ? "no_pages" : result.error_code;
        o.error = result.error.empty() ? "No page of the site could be captured." : result.error;
        // Anything but "the site has nothing to capture" is ours to explain.
        if (o.error_code != "no_sitemap" && o.error_code != "no_pages" &&
            o.error_code != "invalid_url") {
            o.error_code = "internal_error";
        }
        return o;
    }
    o.urls = result.urls;
    return o;
}

SiteDiscoverer::SiteDiscoverer(DiscovererOptions options)
    : options_(std::move(options)),
      session_(options_.database_url, {db::kDiscoveryReadyChannel}, "discoverer") {}

bool SiteDiscoverer::discover_one(const std::atomic<bool>& stop) {
    pqxx::connection& conn = session_->conn();
    const auto job = db::claim_discovery(conn, options_.worker_id, lease_seconds(options_));
    if (!job) return false;
    db::DiscoveryOutcome outcome;
    if (job->attempts > options_.max_attempts) {
        outcome.error_code = "internal_error";
        outcome.error =
            "The site's pages could not be found: the discovery was interrupted on "
            "each of " +
            std::to_string(options_.max_attempts) + " attempts.";
    } else {
        kLog.info("discovering a site", {{"job_id", job->job_id}, {"attempt", job->attempts}});
        crawl::CurlFetcher::Settings settings;
        settings.policy = net::AddressPolicy::from_config(options_.allowed_networks);
        settings.ca_blob = options_.ca_bundle.empty() ? nullptr : &options_.ca_bundle;
        settings.cancel = &stop;
        crawl::CurlFetcher fetcher(settings);
        const crawl::CrawlResult result =
            crawl::discover(crawl_options_for(*job, options_), fetcher, stop);
        if (result.error_code == "cancelled") {
            db::release_discovery(conn, options_.worker_id, job->job_id);
            kLog.info("discovery given back: stopping", {{"job_id", job->job_id}});
            return false;
        }
        outcome = outcome_of(result);
    }
    const db::FinishResult r = db::finish_discovery(conn, options_.worker_id, job->job_id, outcome);
    if (!r.applied) {
        kLog.warning("discovery not recorded: lease lost", {{"job_id", job->job_id}});
        return true;
    }
    kLog.info("discovery recorded", {{"job_id", job->job_id},
                                     {"pages", outcome.urls.size()},
                                     {"method", outcome.method},
                                     {"total_discovered", outcome.total_discovered},
                                     {"truncated", outcome.truncated},
                                     {"error_code", outcome.error_code}});
    if (r.job_terminal) metrics::worker_metrics().job_finished(r.endpoint, r.job_status);
    return true;
}

void SiteDiscoverer::run(const std::atomic<bool>& stop) {
    kLog.info("started", {{"worker_id", options_.worker_id}});
    run_claim_loop(session_, stop, options_.poll_interval, kLog, "discoverer", "discovering a site",
                   [&] { return discover_one(stop); });
    kLog.info("stopped");
}

}  // namespace enconvert::scheduler

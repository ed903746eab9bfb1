// The site discoverer: finds the pages of a website capture
// (docs/website-capture.md) with crawl::discover, through the outbound
// address policy, and records them as the job's tasks
// (db/site_discoveries.h). Each worker runs crawl_workers of them; a lease
// on the job shares the work and hands a discovery whose worker died to
// another.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "crawl/crawler.h"
#include "db/reconnecting_session.h"
#include "db/site_discoveries.h"

namespace enconvert::scheduler {

struct DiscovererOptions {
    std::string database_url;
    std::string worker_id;         // lease owner
    std::string allowed_networks;  // the renderers' outbound policy, the same for the crawl
    std::string ca_bundle;         // PEM for https sites; empty: curl's defaults
    std::chrono::seconds page_budget{15};
    std::chrono::seconds total_budget{60};
    // A discovery taken up this many times (its worker died each time) fails.
    int max_attempts = 3;
    std::chrono::milliseconds poll_interval{5000};
};

// The crawl a job's options ask for (crawl_mode, max_pages, max_depth,
// include_patterns, exclude_patterns; docs/api.md), within the budgets.
crawl::CrawlOptions crawl_options_for(const db::DiscoveryJob& job,
                                      const DiscovererOptions& options);

// What is recorded for a crawl's result (a "cancelled" one is not recorded).
db::DiscoveryOutcome outcome_of(const crawl::CrawlResult& result);

class SiteDiscoverer {
  public:
    // Connects to the database (throws on failure).
    explicit SiteDiscoverer(DiscovererOptions options);

    // Claims one waiting discovery, runs it and records the result. False
    // when none was waiting. Throws pqxx errors.
    bool discover_one(const std::atomic<bool>& stop);

    // Runs until `stop`; a discovery in flight is abandoned (its lease is
    // given back) so another worker takes it over at once.
    void run(const std::atomic<bool>& stop);

  private:
    DiscovererOptions options_;
    db::ReconnectingSession session_;
};

}  // namespace enconvert::scheduler

// SQL for a website capture's discovery (migration 010): the job
// is created with no task and discovery_state 'pending'; a site discoverer
// claims it under a lease, finds the pages and finish_discovery records them
// (one task per page) or ends the job failed, in one transaction.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "db/job_types.h"

namespace enconvert::db {

// NOTIFYed (payload: the job id) when a website job waits for discovery.
inline constexpr const char* kDiscoveryReadyChannel = "enconvert_discovery_ready";
// NOTIFYed (payload: the job id) when its discovery is recorded, whatever
// the outcome: the intake answers the request that created the job.
inline constexpr const char* kDiscoveryDoneChannel = "enconvert_discovery_done";

struct DiscoveryJob {
    std::string job_id;
    std::string endpoint;  // website-to-pdf or website-to-screenshot
    nlohmann::json options = nlohmann::json::object();
    std::string start_url;
    int attempts = 0;  // including this claim
};

// Claims one job waiting for its discovery (no live lease), oldest first,
// leased to `owner` for lease_seconds; SKIP LOCKED, so concurrent
// discoverers get different jobs, and a lease that ran out (its worker died)
// is taken over with the attempt counted.
std::optional<DiscoveryJob> claim_discovery(pqxx::connection& conn, const std::string& owner,
                                            int lease_seconds);

struct DiscoveryOutcome {
    // Found pages: one task each, in this order. Empty with error_code set:
    // the job fails with `error` (a sentence for its answers).
    std::vector<std::string> urls;
    std::string method;  // "sitemap" or "full_crawl"
    std::int64_t total_discovered = 0;
    bool truncated = false;
    std::string error_code, error;
};

// If `owner` still holds the lease: records the outcome. Pages: inserts
// their tasks and NOTIFYs enconvert_task_ready. An error: the job becomes
// 'failed', enconvert_job_done is NOTIFYed and its notifications are
// queued. Either way enconvert_discovery_done is NOTIFYed. applied=false:
// the lease was lost and nothing changed.
FinishResult finish_discovery(pqxx::connection& conn, const std::string& owner,
                              const std::string& job_id, const DiscoveryOutcome& outcome);

// Gives a claimed discovery back (the worker is stopping): the lease is
// cleared and the attempt not counted, so another worker takes it at once.
void release_discovery(pqxx::connection& conn, const std::string& owner, const std::string& job_id);

}  // namespace enconvert::db

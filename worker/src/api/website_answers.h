// The answers of a website capture (docs/api.md "Website
// capture"): the 202 once its discovery is recorded, or the 400 when
// discovery found nothing to capture, and the discovery part of its batch
// answer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "api/responses.h"
#include "db/job_types.h"

namespace enconvert::api {

// The answer to the request that created `job`, a website capture; nullopt
// while its discovery is still pending. 202 {"success":true,"status":
// "processing","job_id","batch_id","url_count","total_discovered",
// "discovery_method","truncated","output_format":"zip","message"}; a failed
// discovery: 400 (no_sitemap, no_pages) or 500 (internal_error) in the
// error shape, naming the job.
std::optional<HttpAnswer> website_answer(const db::JobView& job);

// A website capture whose discovery failed has no task; its status object
// and its notifications report the start URL instead, failed with the
// discovery's reason: the webhook and the email name the URL that was
// submitted and why nothing came of it, as for any failed URL. nullopt for
// every other job.
std::optional<db::TaskView> discovery_failure_task(const db::JobView& job);

// {"state","method","total_discovered","truncated","error_code","error"}
// for the batch and status answers; null for a job that is no website
// capture.
nlohmann::json discovery_json(const db::JobView& job);

}  // namespace enconvert::api

#include "db/site_discoveries.h"

#include "db/job_repository.h"
#include "db/notification_outbox.h"
#include "util/utf8.h"

namespace enconvert::db {

namespace {

// The start URL is the request's `url`, kept in the job's options.
constexpr const char* kClaimSql =
    "WITH picked AS ("
    "  SELECT id FROM jobs WHERE discovery_state = 'pending' AND status = 'processing' "
    "    AND (discovery_lease_expires_at IS NULL OR discovery_lease_expires_at < now()) "
    "  ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE jobs SET discovery_lease_owner = $1, "
    "  discovery_lease_expires_at = now() + make_interval(secs => $2), "
    "  discovery_attempts = discovery_attempts + 1 "
    "WHERE id IN (SELECT id FROM picked) "
    "RETURNING id, endpoint, options::text, discovery_attempts";

}  // namespace

std::optional<DiscoveryJob> claim_discovery(pqxx::connection& conn, const std::string& owner,
                                            int lease_seconds) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(kClaimSql, owner, lease_seconds);
    tx.commit();
    if (r.empty()) return std::nullopt;
    DiscoveryJob j;
    j.job_id = r[0][0].as<std::string>();
    j.endpoint = r[0][1].as<std::string>();
    j.options = nlohmann::json::parse(r[0][2].as<std::string>());
    if (auto it = j.options.find("url"); it != j.options.end() && it->is_string())
        j.start_url = it->get<std::string>();
    j.attempts = r[0][3].as<int>();
    return j;
}

FinishResult finish_discovery(pqxx::connection& conn, const std::string& owner,
                              const std::string& job_id, const DiscoveryOutcome& outcome) {
    pqxx::work tx(conn);
    FinishResult res;
    res.job_id = job_id;
    const bool found = outcome.error_code.empty() && !outcome.urls.empty();
    // No page and no reason given is still "nothing to capture": the job's
    // answers need a code and a sentence.
    const std::string error_code = outcome.error_code.empty() ? "no_pages" : outcome.error_code;
    // The sentence may quote the site (a content type): never invalid UTF-8.
    const std::string error =
        outcome.error.empty() ? "No pages found to capture." : util::valid_utf8(outcome.error);
    const pqxx::result r = tx.exec_params(
        "UPDATE jobs SET discovery_state = $3, discovery_method = $4, discovery_total = $5, "
        "discovery_truncated = $6, discovery_error_code = $7, discovery_error = $8, "
        "discovery_lease_owner = NULL, discovery_lease_expires_at = NULL, "
        "status = CASE WHEN $3 = 'failed' THEN 'failed' ELSE status END, "
        "completed_at = CASE WHEN $3 = 'failed' THEN now() END "
        "WHERE id = $1 AND discovery_lease_owner = $2 AND discovery_state = 'pending' "
        "AND status = 'processing' RETURNING endpoint",
        job_id, owner, found ? "done" : "failed",
        outcome.method.empty() ? std::nullopt : std::optional<std::string>(outcome.method),
        outcome.total_discovered, outcome.truncated,
        found ? std::nullopt : std::optional<std::string>(error_code),
        found ? std::nullopt : std::optional<std::string>(error));
    if (r.empty()) {
        tx.abort();
        return res;  // lease lost: another discoverer took the job over
    }
    res.applied = true;
    res.endpoint = r[0][0].as<std::string>();
    if (found) {
        tx.exec_params(
            "INSERT INTO tasks (job_id, account_id, position, url) "
            "SELECT j.id, j.account_id, u.ord - 1, u.url FROM jobs j, "
            "jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS u(url, ord) WHERE j.id = $1",
            job_id, nlohmann::json(outcome.urls).dump());
        tx.exec_params("SELECT pg_notify($1, '')", std::string(kTaskReadyChannel));
    } else {
        res.job_terminal = true;
        res.job_status = "failed";
        tx.exec_params("SELECT pg_notify($1, $2)", std::string(kJobDoneChannel), job_id);
        // As finish_task does: the deliveries commit with the terminal state.
        enqueue_notifications(tx, job_id);
    }
    tx.exec_params("SELECT pg_notify($1, $2)", std::string(kDiscoveryDoneChannel), job_id);
    tx.commit();
    return res;
}

void release_discovery(pqxx::connection& conn, const std::string& owner,
                       const std::string& job_id) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "UPDATE jobs SET discovery_lease_owner = NULL, discovery_lease_expires_at = NULL, "
        "discovery_attempts = greatest(discovery_attempts - 1, 0) "
        "WHERE id = $1 AND discovery_lease_owner = $2 AND discovery_state = 'pending' "
        "RETURNING id",
        job_id, owner);
    if (!r.empty())
        tx.exec_params("SELECT pg_notify($1, $2)", std::string(kDiscoveryReadyChannel), job_id);
    tx.commit();
}

}  // namespace enconvert::db

#include "db/batch_archives.h"

#include "db/fields.h"
#include "db/job_repository.h"
#include "db/key_stamp.h"
#include "db/notification_outbox.h"

namespace enconvert::db {

namespace {

// The job and its tasks in one statement; the tasks as one JSON array, as
// load_job reads them.
constexpr const char* kClaimSql =
    "WITH picked AS ("
    "  SELECT id FROM jobs WHERE zip_state = 'pending' AND status = 'processing' "
    "    AND (zip_lease_expires_at IS NULL OR zip_lease_expires_at < now()) "
    "  ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "claimed AS ("
    "  UPDATE jobs SET zip_lease_owner = $1, "
    "    zip_lease_expires_at = now() + make_interval(secs => $2), "
    "    zip_attempts = zip_attempts + 1 "
    "  WHERE id IN (SELECT id FROM picked) "
    "  RETURNING id, account_id, endpoint, options, created_at, zip_attempts) "
    "SELECT c.id, a.public_id, c.endpoint, c.options::text, "
    "  (SELECT coalesce(json_agg(json_build_array(t.id, t.position, t.url, t.status, "
    "     t.object_key, t.filename, t.error_code, t.error, t.file_size) ORDER BY t.position), "
    "   '[]') "
    "   FROM tasks t WHERE t.job_id = c.id)::text, "
    "  " ENCONVERT_KEY_STAMP_SQL("c.created_at") ", "
    "  c.zip_attempts "
    "FROM claimed c JOIN accounts a ON a.id = c.account_id";

std::optional<std::string> opt_text(const nlohmann::json& v) {
    if (v.is_null()) return std::nullopt;
    return v.get<std::string>();
}

ArchiveJob archive_job(const pqxx::row& row) {
    ArchiveJob j;
    j.job_id = row[0].as<std::string>();
    j.account_public_id = row[1].as<std::string>();
    j.endpoint = row[2].as<std::string>();
    j.options = nlohmann::json::parse(row[3].as<std::string>());
    j.stamp = row[5].as<std::string>();
    j.attempts = row[6].as<int>();
    for (const auto& t : nlohmann::json::parse(row[4].as<std::string>())) {
        TaskView tv;
        tv.id = t[0].get<std::int64_t>();
        tv.position = t[1].get<int>();
        tv.url = t[2].get<std::string>();
        tv.status = t[3].get<std::string>();
        tv.object_key = opt_text(t[4]);
        tv.filename = opt_text(t[5]);
        tv.error_code = opt_text(t[6]);
        tv.error = opt_text(t[7]);
        // The room a build needs is reckoned from it.
        if (!t[8].is_null()) tv.file_size = t[8].get<std::int64_t>();
        j.tasks.push_back(std::move(tv));
    }
    return j;
}

}  // namespace

std::optional<ArchiveJob> claim_archive(pqxx::connection& conn, const std::string& owner,
                                        int lease_seconds) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(kClaimSql, owner, lease_seconds);
    tx.commit();
    if (r.empty()) return std::nullopt;
    return archive_job(r[0]);
}

bool renew_archive_lease(pqxx::connection& conn, const std::string& owner,
                         const std::string& job_id, int lease_seconds) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "UPDATE jobs SET zip_lease_expires_at = now() + make_interval(secs => $3) "
        "WHERE id = $1 AND zip_lease_owner = $2 AND zip_state = 'pending' RETURNING id",
        job_id, owner, lease_seconds);
    tx.commit();
    return !r.empty();
}

void release_archive(pqxx::connection& conn, const std::string& owner, const std::string& job_id) {
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE jobs SET zip_lease_owner = NULL, zip_lease_expires_at = NULL, "
        "zip_attempts = greatest(zip_attempts - 1, 0) "
        "WHERE id = $1 AND zip_lease_owner = $2 AND zip_state = 'pending'",
        job_id, owner);
    tx.exec_params("SELECT pg_notify($1, $2)", std::string(kArchiveReadyChannel), job_id);
    tx.commit();
}

FinishResult finish_archive(pqxx::connection& conn, const std::string& owner,
                            const std::string& job_id, const ArchiveResult& result) {
    pqxx::work tx(conn);
    FinishResult res;
    res.job_id = job_id;
    const bool stored = result.error.empty();
    const pqxx::result r = tx.exec_params(
        "UPDATE jobs SET zip_state = $3, zip_object_key = $4, zip_file_size = $5, "
        "zip_error = $6, zip_lease_owner = NULL, zip_lease_expires_at = NULL, "
        "status = 'completed', completed_at = now() "
        "WHERE id = $1 AND zip_lease_owner = $2 AND zip_state = 'pending' "
        "AND status = 'processing' RETURNING endpoint",
        job_id, owner, stored ? "done" : "failed",
        result.object_key.empty() ? std::nullopt : std::optional<std::string>(result.object_key),
        stored ? std::optional<std::int64_t>(result.file_size) : std::nullopt,
        stored ? std::nullopt : std::optional<std::string>(result.error));
    if (r.empty()) {
        tx.abort();
        return res;  // lease lost: another archiver took the job over
    }
    res.applied = true;
    res.job_terminal = true;
    res.job_status = "completed";
    res.endpoint = r[0][0].as<std::string>();
    tx.exec_params("SELECT pg_notify($1, $2)", std::string(kJobDoneChannel), job_id);
    // As finish_task does: the deliveries commit with the terminal state.
    enqueue_notifications(tx, job_id);
    tx.commit();
    return res;
}

std::string archive_state(pqxx::connection& conn, const std::string& job_id) {
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec_params(
        "SELECT CASE WHEN expired_at IS NOT NULL THEN 'expired' "
        "ELSE coalesce(zip_state, '') END FROM jobs WHERE id = $1",
        job_id);
    return r.empty() ? std::string() : r[0][0].as<std::string>();
}

}  // namespace enconvert::db

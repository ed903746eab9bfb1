#include "db/retention.h"

#include "db/key_stamp.h"

namespace enconvert::db {

namespace {

// A text[] literal; job ids are job_/batch_ + hex, nothing to escape.
std::string text_array(const std::vector<std::string>& job_ids) {
    std::string ids = "{";
    for (std::size_t i = 0; i < job_ids.size(); ++i) ids += (i ? ",\"" : "\"") + job_ids[i] + '"';
    return ids + "}";
}

}  // namespace

std::vector<ExpiringJob> lock_expiring_jobs(pqxx::transaction_base& tx,
                                            std::chrono::seconds retention, int limit,
                                            const std::vector<std::string>& passed_over) {
    const pqxx::result r = tx.exec_params(
        "WITH expiring AS ("
        "  SELECT id, completed_at, zip_object_key, account_id, endpoint, options, created_at "
        "  FROM jobs "
        "  WHERE expired_at IS NULL AND status <> 'processing' "
        "    AND completed_at < now() - make_interval(secs => $1) "
        "    AND NOT id = ANY($3::text[]) "
        // A notification still to be sent (a retry waiting for its
        // Retry-After, one being sent) needs the job: expired under it, it
        // would vanish unsent or go out without the tasks.
        "    AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.job_id = jobs.id "
        "      AND n.state IN ('pending', 'sending')) "
        "  ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
        "SELECT e.id, coalesce((SELECT array_agg(t.object_key ORDER BY t.position) "
        "  FROM tasks t WHERE t.job_id = e.id AND t.object_key IS NOT NULL), '{}') "
        // A batch's ZIP goes with its files (a NULL element is skipped below).
        "  || e.zip_object_key, "
        "  a.public_id, e.endpoint, e.options::text, " ENCONVERT_KEY_STAMP_SQL("e.created_at") ", "
        "  (SELECT coalesce(json_agg(json_build_array(t.id, t.url, t.abandoned_claims) "
        "     ORDER BY t.id), '[]') "
        "   FROM tasks t WHERE t.job_id = e.id AND cardinality(t.abandoned_claims) > 0)::text "
        "FROM expiring e JOIN accounts a ON a.id = e.account_id "
        "ORDER BY e.completed_at",
        static_cast<double>(retention.count()), limit, text_array(passed_over));
    std::vector<ExpiringJob> jobs;
    for (const auto& row : r) {
        ExpiringJob j;
        j.job_id = row[0].as<std::string>();
        auto keys = row[1].as_array();
        for (auto [kind, value] = keys.get_next(); kind != pqxx::array_parser::juncture::done;
             std::tie(kind, value) = keys.get_next())
            if (kind == pqxx::array_parser::juncture::string_value) j.object_keys.push_back(value);
        j.account_public_id = row[2].as<std::string>();
        j.endpoint = row[3].as<std::string>();
        j.options = nlohmann::json::parse(row[4].as<std::string>());
        j.key_stamp = row[5].as<std::string>();
        for (const auto& t : nlohmann::json::parse(row[6].as<std::string>()))
            j.abandoned.push_back(
                {t[0].get<std::int64_t>(), t[1].get<std::string>(), t[2].get<std::vector<int>>()});
        jobs.push_back(std::move(j));
    }
    return jobs;
}

void expire_jobs(pqxx::transaction_base& tx, const std::vector<std::string>& job_ids) {
    if (job_ids.empty()) return;
    const std::string ids = text_array(job_ids);
    tx.exec_params("DELETE FROM notifications WHERE job_id = ANY($1::text[])", ids);
    tx.exec_params("DELETE FROM tasks WHERE job_id = ANY($1::text[])", ids);
    tx.exec_params(
        "UPDATE jobs SET expired_at = now(), options = '{}', notification_email = NULL, "
        "callback_url = NULL, base_url = '', idempotency_key = NULL, "
        // The ZIP's key holds the customer's output_filename; the errors
        // may quote their pages.
        "request_fingerprint = NULL, zip_object_key = NULL, zip_error = NULL, "
        "discovery_error = NULL WHERE id = ANY($1::text[])",
        ids);
}

int forget_expired_jobs(pqxx::connection& conn, std::chrono::seconds keep, int limit) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE expired_at IS NOT NULL "
        "AND expired_at < now() - make_interval(secs => $1) ORDER BY expired_at LIMIT $2 "
        "FOR UPDATE SKIP LOCKED)",
        static_cast<double>(keep.count()), limit);
    tx.commit();
    return static_cast<int>(r.affected_rows());
}

}  // namespace enconvert::db

#include "db/job_repository.h"

#include <algorithm>

#include "db/batch_archives.h"
#include "db/fields.h"
#include "db/notification_outbox.h"
#include "db/prepared.h"
#include "db/site_discoveries.h"
#include "util/utf8.h"

namespace enconvert::db {

namespace {

constexpr const char* kRfc3339 = R"('YYYY-MM-DD"T"HH24:MI:SS"Z"')";

// A PostgreSQL array literal of `ids`, for a `$n::bigint[]` parameter.
std::string bigint_array(const std::vector<std::int64_t>& ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
    return out + "}";
}

}  // namespace

namespace {

// The columns a status answer needs, of `jobs j`: one list for load_job and
// load_jobs. The tasks and the notifications come back as JSON arrays.
const std::string& job_view_columns() {
    static const std::string kColumns =
        std::string(
            "j.id, j.account_id, j.endpoint, j.status, j.is_sync, j.base_url, j.options::text, "
            "to_char(j.created_at AT TIME ZONE 'UTC', ") +
        kRfc3339 + "), to_char(j.completed_at AT TIME ZONE 'UTC', " + kRfc3339 +
        "), (SELECT coalesce(json_agg(json_build_array(t.id, t.position, t.url, t.status, "
        "t.object_key, t.filename, t.file_size, t.conversion_time, t.error_code, t.error) "
        "ORDER BY t.position), '[]') FROM tasks t WHERE t.job_id = j.id)::text, "
        "j.expired_at IS NOT NULL, j.is_batch, j.client_id, coalesce(j.zip_state, ''), "
        "j.zip_object_key, j.zip_file_size, j.zip_error, coalesce(j.discovery_state, ''), "
        "j.discovery_method, j.discovery_total, coalesce(j.discovery_truncated, false), "
        "j.discovery_error_code, j.discovery_error, "
        "floor(extract(epoch FROM j.completed_at))::bigint, "
        // The outbox rows (db/notification_outbox.h) or, before the job is terminal,
        // what it asked for; "sending" is an internal lease state, to the
        // client it is not done.
        "(SELECT coalesce(json_agg(json_build_object('type', t.type, 'target', t.target, "
        "'state', CASE WHEN n.state IS NULL OR n.state = 'sending' THEN 'pending' "
        "ELSE n.state END, 'response_code', n.response_code, 'error', n.error, "
        "'attempts', coalesce(n.attempts, 0)) ORDER BY t.ord), '[]') "
        "FROM (VALUES (1, 'webhook', j.callback_url), (2, 'email', j.notification_email)) "
        "AS t(ord, type, target) "
        "LEFT JOIN notifications n ON n.job_id = j.id AND n.type = t.type "
        "WHERE t.target IS NOT NULL AND t.target <> '')::text";
    return kColumns;
}

// The job read from job_view_columns(), starting at column `c`.
JobView job_view_from(const pqxx::row& row, int c) {
    auto col = [&](int i) { return row[c + i]; };
    JobView v;
    v.id = col(0).as<std::string>();
    v.account_id = col(1).as<std::int64_t>();
    v.endpoint = col(2).as<std::string>();
    v.status = col(3).as<std::string>();
    v.is_sync = col(4).as<bool>();
    v.base_url = col(5).as<std::string>();
    v.options = nlohmann::json::parse(col(6).as<std::string>());
    v.created_at = col(7).as<std::string>();
    v.completed_at = opt_string(col(8));
    v.expired = col(10).as<bool>();
    v.is_batch = col(11).as<bool>();
    v.client_id = opt_string(col(12));
    v.zip_state = col(13).as<std::string>();
    v.zip_object_key = opt_string(col(14));
    if (!col(15).is_null()) v.zip_file_size = col(15).as<std::int64_t>();
    v.zip_error = opt_string(col(16));
    v.discovery_state = col(17).as<std::string>();
    v.discovery_method = opt_string(col(18));
    if (!col(19).is_null()) v.discovery_total = col(19).as<std::int64_t>();
    v.discovery_truncated = col(20).as<bool>();
    v.discovery_error_code = opt_string(col(21));
    v.discovery_error = opt_string(col(22));
    if (!col(23).is_null()) v.completed_unix = col(23).as<std::int64_t>();
    v.notifications = nlohmann::json::parse(col(24).as<std::string>());
    auto opt = [](const nlohmann::json& value) -> std::optional<nlohmann::json> {
        if (value.is_null()) return std::nullopt;
        return value;
    };
    for (const auto& task : nlohmann::json::parse(col(9).as<std::string>())) {
        TaskView tv;
        tv.id = task[0].get<std::int64_t>();
        tv.position = task[1].get<int>();
        tv.url = task[2].get<std::string>();
        tv.status = task[3].get<std::string>();
        if (auto f = opt(task[4])) tv.object_key = f->get<std::string>();
        if (auto f = opt(task[5])) tv.filename = f->get<std::string>();
        if (auto f = opt(task[6])) tv.file_size = f->get<std::int64_t>();
        if (auto f = opt(task[7])) tv.conversion_time = f->get<double>();
        if (auto f = opt(task[8])) tv.error_code = f->get<std::string>();
        if (auto f = opt(task[9])) tv.error = f->get<std::string>();
        v.tasks.push_back(std::move(tv));
    }
    return v;
}

}  // namespace

std::optional<JobView> load_job(pqxx::connection& conn, const std::string& job_id,
                                std::int64_t account_id) {
    // Status polls and sync answers read here: one prepared statement, one
    // round trip, no BEGIN/COMMIT (a single statement sees one snapshot, so
    // job, tasks and notifications are consistent).
    static const std::string kSql =
        "SELECT " + job_view_columns() + " FROM jobs j WHERE j.id = $1 AND j.account_id = $2";
    pqxx::nontransaction tx(conn);
    const pqxx::result r = exec_named(tx, "enconvert_load_job", kSql, job_id, account_id);
    if (r.empty()) return std::nullopt;
    return job_view_from(r[0], 0);
}

std::vector<std::optional<JobView>> load_jobs(pqxx::connection& conn,
                                              const std::vector<JobKey>& keys) {
    std::vector<std::optional<JobView>> out(keys.size());
    if (keys.empty()) return out;
    // The polls read in one wake-up share one statement: one round trip and
    // one executor start for all of them. A key matches only its own
    // account's job, exactly as in load_job.
    static const std::string kSql =
        "SELECT k.n, " + job_view_columns() +
        " FROM jsonb_to_recordset($1::jsonb) AS k(n int, id text, account_id bigint) "
        "JOIN jobs j ON j.id = k.id AND j.account_id = k.account_id";
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i = 0; i < keys.size(); ++i)
        rows.push_back({{"n", i}, {"id", keys[i].job_id}, {"account_id", keys[i].account_id}});
    pqxx::nontransaction tx(conn);
    const pqxx::result r = exec_named(tx, "enconvert_load_jobs", kSql, rows.dump());
    for (const auto& row : r) {
        const auto n = row[0].as<std::size_t>();
        if (n < out.size()) out[n] = job_view_from(row, 1);
    }
    return out;
}

std::optional<std::string> find_client_job(pqxx::connection& conn, const std::string& client_id,
                                           std::int64_t account_id) {
    // The newest: an account may use its id again (migration 007).
    static const std::string kSql =
        "SELECT id FROM jobs WHERE account_id = $1 AND client_id = $2 "
        "ORDER BY created_at DESC, id DESC LIMIT 1";
    pqxx::nontransaction tx(conn);
    const pqxx::result r = exec_named(tx, "enconvert_find_client_job", kSql, account_id, client_id);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
}

namespace {

// The task goes back to the queue (TaskOutcome::retry); the job stays as it
// is, since a task is runnable again.
FinishResult requeue_task(pqxx::connection& conn, const std::string& owner, const TaskOutcome& o) {
    pqxx::work tx(conn);
    FinishResult res;
    const pqxx::result upd = exec_named(
        tx, "enconvert_requeue_task",
        "UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
        "error_code = $3, error = $4, run_alone = run_alone OR $5, "
        "attempts = CASE WHEN $6 THEN attempts ELSE greatest(attempts - 1, 0) END, "
        "not_before = CASE WHEN $7 > 0 THEN now() + make_interval(secs => $7) END, "
        "storage_full_since = CASE WHEN $3 = 'storage_full' "
        "  THEN coalesce(storage_full_since, now()) END "
        "WHERE id = $1 AND lease_owner = $2 AND status = 'processing' "
        "  AND ($8 = 0 OR claims = $8) "
        "RETURNING job_id",
        o.task_id, owner, o.error_code, util::valid_utf8(o.error), o.run_alone, o.count_attempt,
        o.retry_after_seconds, o.claim);
    if (upd.empty()) {
        tx.abort();
        return res;  // lease lost: another worker owns the task now
    }
    res.applied = true;
    res.job_id = upd[0][0].as<std::string>();
    exec_named(tx, "enconvert_notify_empty", "SELECT pg_notify($1, '')",
               std::string(kTaskReadyChannel));
    tx.commit();
    return res;
}

}  // namespace

FinishResult finish_task(pqxx::connection& conn, const std::string& owner, const TaskOutcome& o) {
    if (o.retry) return requeue_task(conn, owner, o);
    pqxx::work tx(conn);
    FinishResult res;
    const pqxx::result upd =
        o.ok ? exec_named(tx, "enconvert_task_succeeded",
                          "UPDATE tasks SET status = 'success', object_key = $3, filename = $4, "
                          "file_size = $5, conversion_time = $6, error_code = NULL, error = NULL, "
                          "lease_expires_at = NULL, finished_at = now() "
                          "WHERE id = $1 AND lease_owner = $2 AND status = 'processing' "
                          "  AND ($7 = 0 OR claims = $7) "
                          "RETURNING job_id",
                          o.task_id, owner, o.object_key, o.filename, o.file_size,
                          o.conversion_time, o.claim)
             : exec_named(tx, "enconvert_task_failed",
                          "UPDATE tasks SET status = 'failed', error_code = $3, error = $4, "
                          "lease_expires_at = NULL, finished_at = now() "
                          "WHERE id = $1 AND lease_owner = $2 AND status = 'processing' "
                          "  AND ($5 = 0 OR claims = $5) "
                          "RETURNING job_id",
                          o.task_id, owner, o.error_code, util::valid_utf8(o.error), o.claim);
    if (upd.empty()) {
        // Either our lease was lost (another worker owns the task now), or
        // this is the second try of a call whose COMMIT was in doubt and
        // went through: then the row holds this very outcome, in our name.
        // Whether that commit also ended the job: the job's completed_at
        // and the task's finished_at are then the same transaction's now().
        const pqxx::result mine =
            exec_named(tx, "enconvert_task_recorded",
                       "SELECT t.job_id, j.status, j.endpoint, coalesce(j.completed_at = "
                       "t.finished_at, false) "
                       "FROM tasks t JOIN jobs j ON j.id = t.job_id "
                       "WHERE t.id = $1 AND t.lease_owner = $2 AND ($5 = 0 OR t.claims = $5) "
                       "AND CASE WHEN $3 THEN t.status = 'success' AND t.object_key = $4 "
                       "ELSE t.status = 'failed' AND t.error_code = $4 END",
                       o.task_id, owner, o.ok, o.ok ? o.object_key : o.error_code, o.claim);
        tx.abort();
        if (!mine.empty()) {
            res.applied = true;
            res.recorded_before = true;
            res.job_id = mine[0][0].as<std::string>();
            if (mine[0][3].as<bool>()) {
                res.job_terminal = true;
                res.job_status = mine[0][1].as<std::string>();
                res.endpoint = mine[0][2].as<std::string>();
            }
        }
        return res;
    }
    res.applied = true;
    res.job_id = upd[0][0].as<std::string>();

    // Lock the job row, then count in a new statement: under READ COMMITTED
    // that statement sees every task update committed by whoever held the
    // lock before us, so exactly one finisher sees "nothing left" and the
    // job becomes terminal exactly once.
    const pqxx::row job =
        exec_named(tx, "enconvert_lock_finished_job",
                   std::string("SELECT status, endpoint, zip_state IS NULL AND ") +
                       kWantsArchiveSql + " FROM jobs WHERE id = $1 FOR UPDATE",
                   res.job_id)
            .at(0);
    const pqxx::row counts =
        exec_named(tx, "enconvert_count_job_tasks",
                   "SELECT count(*) FILTER (WHERE status IN ('pending', 'processing')), "
                   "count(*) FILTER (WHERE status = 'success') FROM tasks WHERE job_id = $1",
                   res.job_id)
            .at(0);
    if (job[0].as<std::string>() == "processing" && counts[0].as<std::int64_t>() == 0) {
        const bool any_success = counts[1].as<std::int64_t>() > 0;
        if (any_success && job[2].as<bool>()) {
            // The ZIP comes first, so that the notifications can link it:
            // an archiver finishes the job (db/batch_archives.h).
            exec_named(tx, "enconvert_job_wants_archive",
                       "UPDATE jobs SET zip_state = 'pending' WHERE id = $1", res.job_id);
            exec_named(tx, "enconvert_notify", "SELECT pg_notify($1, $2)",
                       std::string(kArchiveReadyChannel), res.job_id);
            res.archive_pending = true;
            tx.commit();
            return res;
        }
        res.job_status = any_success ? "completed" : "failed";
        res.endpoint = job[1].as<std::string>();
        exec_named(tx, "enconvert_job_finished",
                   "UPDATE jobs SET status = $2, completed_at = now() WHERE id = $1", res.job_id,
                   res.job_status);
        exec_named(tx, "enconvert_notify", "SELECT pg_notify($1, $2)", std::string(kJobDoneChannel),
                   res.job_id);
        // Outbox: the deliveries are committed with the terminal state, so a
        // crash can neither lose them nor create them twice.
        enqueue_notifications(tx, res.job_id);
        res.job_terminal = true;
    }
    tx.commit();
    return res;
}

std::vector<std::int64_t> renew_leases(pqxx::connection& conn, const std::string& owner,
                                       int lease_seconds,
                                       const std::vector<std::int64_t>& task_ids) {
    pqxx::work tx(conn);
    const pqxx::result r =
        exec_named(tx, "enconvert_renew_leases",
                   "UPDATE tasks SET lease_expires_at = now() + make_interval(secs => $2) "
                   "WHERE lease_owner = $1 AND status = 'processing' AND id = ANY($3::bigint[]) "
                   "RETURNING id",
                   owner, lease_seconds, bigint_array(task_ids));
    tx.commit();
    std::vector<std::int64_t> renewed;
    for (const auto& row : r) renewed.push_back(row[0].as<std::int64_t>());
    return renewed;
}

int release_tasks(pqxx::connection& conn, const std::string& owner,
                  const std::vector<std::int64_t>& except) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
        "attempts = greatest(attempts - 1, 0), abandoned_claims = abandoned_claims || claims "
        "WHERE lease_owner = $1 AND status = 'processing' AND NOT id = ANY($2::bigint[])",
        owner, bigint_array(except));
    if (r.affected_rows() > 0) {
        tx.exec_params("SELECT pg_notify($1, '')", std::string(kTaskReadyChannel));
    }
    tx.commit();
    return static_cast<int>(r.affected_rows());
}

bool ping(pqxx::connection& conn, std::chrono::milliseconds timeout) {
    // SET LOCAL: the bound applies to this check only and ends with the
    // transaction, whatever the connection's own statement_timeout is.
    pqxx::work tx(conn);
    tx.exec("SET LOCAL statement_timeout = " + std::to_string(timeout.count()));
    const bool ok = tx.exec("SELECT 1")[0][0].as<int>() == 1;
    tx.commit();
    return ok;
}

TaskCounts count_unfinished_tasks(pqxx::connection& conn, std::chrono::milliseconds timeout) {
    pqxx::work tx(conn);
    tx.exec("SET LOCAL statement_timeout = " + std::to_string(timeout.count()));
    // Both states are in the partial index tasks_runnable: no table scan of
    // the finished history.
    const pqxx::row r = tx.exec1(
        "SELECT count(*) FILTER (WHERE status = 'pending'), "
        "count(*) FILTER (WHERE status = 'processing') "
        "FROM tasks WHERE status IN ('pending', 'processing')");
    tx.commit();
    return TaskCounts{r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
}

}  // namespace enconvert::db

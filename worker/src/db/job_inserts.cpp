#include "db/job_inserts.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "db/errors.h"
#include "db/fields.h"
#include "db/job_repository.h"  // kTaskReadyChannel
#include "db/prepared.h"
#include "db/queue_admission.h"
#include "db/site_discoveries.h"  // kDiscoveryReadyChannel

namespace enconvert::db {

namespace {

using IdempotencyKey = std::pair<std::int64_t, std::string>;

// An earlier job of an account, found by its idempotency key.
struct EarlierJob {
    InsertResult result;
    std::optional<std::string> fingerprint;
};

nlohmann::json nullable(const std::optional<std::string>& s) {
    return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

// The jobs already created with the idempotency keys of `jobs` (those that
// have one), in one statement.
std::map<IdempotencyKey, EarlierJob> earlier_jobs(pqxx::transaction_base& tx,
                                                  const std::vector<const NewJob*>& jobs) {
    nlohmann::json keys = nlohmann::json::array();
    for (const NewJob* j : jobs) {
        if (j->idempotency_key) keys.push_back({{"a", j->account_id}, {"k", *j->idempotency_key}});
    }
    std::map<IdempotencyKey, EarlierJob> found;
    if (keys.empty()) return found;
    const pqxx::result rows = tx.exec_params(
        "SELECT j.account_id, j.idempotency_key, j.id, j.status, j.notification_email, "
        "       j.callback_url, j.is_sync, j.request_fingerprint "
        "FROM jsonb_to_recordset($1::jsonb) AS k(a bigint, k text) "
        "JOIN jobs j ON j.account_id = k.a AND j.idempotency_key = k.k",
        keys.dump());
    for (const pqxx::row r : rows) {
        EarlierJob e;
        e.result.job_id = r[2].as<std::string>();
        e.result.status = r[3].as<std::string>();
        e.result.notification_email = opt_string(r[4]);
        e.result.callback_url = opt_string(r[5]);
        e.result.is_sync = r[6].as<bool>();
        e.fingerprint = opt_string(r[7]);
        found[{r[0].as<std::int64_t>(), r[1].as<std::string>()}] = std::move(e);
    }
    return found;
}

// What a request with `job`'s idempotency key gets from the earlier job.
InsertResult replay(const EarlierJob& earlier, const NewJob& job) {
    InsertResult r = earlier.result;
    // A job from before fingerprints were stored (NULL) cannot be compared:
    // it replays, as it did before.
    r.conflict = earlier.fingerprint && job.request_fingerprint &&
                 *earlier.fingerprint != *job.request_fingerprint;
    return r;
}

InsertResult created(const NewJob& job) {
    InsertResult r;
    r.job_id = job.id;
    r.created = true;
    r.is_sync = job.is_sync;
    r.status = "processing";
    r.notification_email = job.notification_email;
    r.callback_url = job.callback_url;
    return r;
}

// Inserts `jobs`, their tasks and the schedulers' wake-up with one
// prepared statement; returns the ids inserted. A job missing from them
// lost its idempotency key to a concurrent transaction: ON CONFLICT DO
// NOTHING on the partial unique index waited for that transaction, then
// inserted nothing.
std::set<std::string> insert_rows(pqxx::transaction_base& tx,
                                  const std::vector<const NewJob*>& jobs) {
    // The jobs as one JSON array: one parameter, whatever the group's size;
    // `n` keeps the tasks' ids in the group's order (claims go by id).
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t n = 0; n < jobs.size(); ++n) {
        const NewJob& j = *jobs[n];
        rows.push_back({
            {"n", n},
            {"id", j.id},
            {"account_id", j.account_id},
            {"api_key_id", j.api_key_id},
            {"endpoint", j.endpoint},
            {"is_batch", j.is_batch},
            {"is_sync", j.is_sync},
            {"options", j.options},
            {"notification_email", nullable(j.notification_email)},
            {"callback_url", nullable(j.callback_url)},
            {"base_url", j.base_url},
            {"idempotency_key", nullable(j.idempotency_key)},
            {"request_fingerprint", nullable(j.request_fingerprint)},
            {"client_id", nullable(j.client_id)},
            // A website capture has no task yet: its discovery is what waits.
            {"discovery_state", j.discover ? nlohmann::json("pending") : nlohmann::json(nullptr)},
            {"discovery_reserved", j.discover ? j.discovery_reserved : 0},
            {"channel", j.discover ? kDiscoveryReadyChannel : kTaskReadyChannel},
            {"urls", j.urls},
        });
    }
    static const std::string kSql =
        "WITH input AS MATERIALIZED ("
        " SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(n int, id text, account_id bigint,"
        " api_key_id bigint, endpoint text, is_batch boolean, is_sync boolean, options jsonb,"
        " notification_email text, callback_url text, base_url text, idempotency_key text,"
        " request_fingerprint text, client_id text, discovery_state text,"
        " discovery_reserved int, channel text, urls jsonb)),"
        " job AS ("
        " INSERT INTO jobs (id, account_id, api_key_id, endpoint, is_batch, is_sync, options,"
        " notification_email, callback_url, base_url, idempotency_key, request_fingerprint,"
        " client_id, discovery_state, discovery_reserved)"
        // JSON null options (none given) read as SQL NULL: stored as {}.
        " SELECT id, account_id, api_key_id, endpoint, is_batch, is_sync,"
        " coalesce(options, '{}'),"
        " notification_email, callback_url, base_url, idempotency_key, request_fingerprint,"
        " client_id, discovery_state, discovery_reserved FROM input ORDER BY n"
        " ON CONFLICT (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL"
        " DO NOTHING RETURNING id, account_id),"
        " task AS ("
        " INSERT INTO tasks (job_id, account_id, position, url)"
        " SELECT job.id, job.account_id, u.ord - 1, u.url"
        " FROM input JOIN job ON job.id = input.id,"
        " jsonb_array_elements_text(input.urls) WITH ORDINALITY AS u(url, ord)"
        " ORDER BY input.n, u.ord)"
        // Identical notifications of one transaction are delivered once.
        " SELECT job.id, pg_notify(input.channel, '') FROM job JOIN input ON input.id = job.id";
    std::set<std::string> ids;
    for (const pqxx::row r : exec_named(tx, "enconvert_insert_jobs", kSql, rows.dump()))
        ids.insert(r[0].as<std::string>());
    return ids;
}

// Handles `run` (indexes into `jobs`), a stretch of the group in which no
// account uses an idempotency key twice: earlier jobs are looked up, the
// others admitted against the queue bounds and inserted, each with one
// statement.
void insert_run(pqxx::transaction_base& tx, const std::vector<const NewJob*>& jobs,
                const std::vector<std::size_t>& run, const QueueLimits& limits, QueueTally& tally,
                std::vector<InsertResult>& out) {
    std::vector<const NewJob*> run_jobs;
    for (std::size_t i : run) run_jobs.push_back(jobs[i]);
    const auto earlier = earlier_jobs(tx, run_jobs);
    std::vector<std::size_t> to_insert;
    std::vector<const NewJob*> rows;
    for (std::size_t i : run) {
        const NewJob& job = *jobs[i];
        if (job.idempotency_key) {
            // A replay adds nothing: it is never refused for a full queue.
            if (auto it = earlier.find({job.account_id, *job.idempotency_key});
                it != earlier.end()) {
                out[i] = replay(it->second, job);
                continue;
            }
        }
        const auto tasks = static_cast<std::int64_t>(job.urls.size()) +
                           (job.discover ? job.discovery_reserved : 0);
        if (auto bound = admit(tally, job.account_id, tasks, limits)) {
            out[i].queue_full = bound;
            out[i].refused_tasks = tasks;
            continue;
        }
        to_insert.push_back(i);
        rows.push_back(&job);
    }
    if (rows.empty()) return;
    const std::set<std::string> ids = insert_rows(tx, rows);
    std::vector<std::size_t> lost;
    for (std::size_t i : to_insert) {
        if (ids.count(jobs[i]->id)) {
            out[i] = created(*jobs[i]);
        } else {
            lost.push_back(i);
        }
    }
    if (lost.empty()) return;
    // Committed by the other transaction by now (our INSERT waited for it);
    // under READ COMMITTED a new statement sees it. Its tasks were counted
    // in the tally: the bound errs on the safe side.
    std::vector<const NewJob*> lost_jobs;
    for (std::size_t i : lost) lost_jobs.push_back(jobs[i]);
    const auto winners = earlier_jobs(tx, lost_jobs);
    for (std::size_t i : lost) {
        const NewJob& job = *jobs[i];
        out[i] = replay(winners.at({job.account_id, *job.idempotency_key}), job);
    }
}

std::vector<InsertResult> insert_group(pqxx::transaction_base& tx,
                                       const std::vector<const NewJob*>& jobs,
                                       const QueueLimits& limits) {
    // Accounts in one order: the admission locks are taken in it, and the
    // runs below follow it.
    std::vector<std::size_t> order(jobs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return jobs[a]->account_id < jobs[b]->account_id;
    });
    std::vector<std::int64_t> accounts;
    for (std::size_t i : order) {
        if (accounts.empty() || accounts.back() != jobs[i]->account_id)
            accounts.push_back(jobs[i]->account_id);
    }
    QueueTally tally = read_queue(tx, accounts, limits);
    std::vector<InsertResult> out(jobs.size());
    // A job reusing a key of its own run starts the next run: it must see
    // the earlier job inserted, as it would one request after the other.
    std::vector<std::size_t> run;
    std::set<IdempotencyKey> keys;
    for (std::size_t i : order) {
        const NewJob& job = *jobs[i];
        if (job.idempotency_key && !keys.insert({job.account_id, *job.idempotency_key}).second) {
            insert_run(tx, jobs, run, limits, tally, out);
            run.clear();
            keys = {{job.account_id, *job.idempotency_key}};
        }
        run.push_back(i);
    }
    insert_run(tx, jobs, run, limits, tally, out);
    return out;
}

}  // namespace

InsertResult insert_job_in(pqxx::transaction_base& tx, const NewJob& job,
                           const QueueLimits& limits) {
    return insert_group(tx, {&job}, limits).front();
}

InsertResult insert_job(pqxx::connection& conn, const NewJob& job, const QueueLimits& limits) {
    // Committed before it returns: the intake answers 202 only after that.
    pqxx::work tx(conn);
    InsertResult out = insert_job_in(tx, job, limits);
    tx.commit();
    return out;
}

std::optional<std::vector<InsertResult>> insert_jobs(pqxx::connection& conn,
                                                     const std::vector<NewJob>& jobs,
                                                     const QueueLimits& limits) {
    std::vector<const NewJob*> group;
    for (const NewJob& job : jobs) group.push_back(&job);
    pqxx::work tx(conn);
    std::vector<InsertResult> out;
    try {
        out = insert_group(tx, group, limits);
    } catch (const pqxx::broken_connection&) {
        throw;
    } catch (const pqxx::sql_error& e) {
        // The server refusing for now (a lock held past the statement
        // timeout, a full disk) would refuse each job alone as well, one
        // statement timeout each: the whole group waited (size + 1) times
        // as long before its 503s.
        if (means_unavailable(e)) throw;
        tx.abort();
        return std::nullopt;
    }
    tx.commit();
    return out;
}

}  // namespace enconvert::db

#include "db/task_claims.h"

#include <cstdint>

#include "db/key_stamp.h"
#include "db/prepared.h"

namespace enconvert::db {

namespace {

// pg_advisory_xact_lock(int, int) key of the claim serialisation that an
// account_max_in_flight needs ("encl": enconvert claims).
constexpr int kClaimLockSpace = 0x656e636c;

// Candidates, in the order they should be claimed: for every account with
// unfinished tasks (found by a skip scan of tasks_unfinished_by_account, one
// index probe per account), its oldest runnable tasks, at most $1 and at
// most the room its in-flight limit $2 leaves. An account's n-th candidate
// ranks at (its tasks in flight + n), so accounts take turns and one that
// already runs tasks waits behind one that runs none; ties by task id (age).
// `load` is materialised so each account's tasks in flight are counted once.
// Reads without locking: the claim below locks what it takes.
constexpr const char* kCandidatesSql =
    "WITH RECURSIVE busy(account_id) AS ("
    "  (SELECT account_id FROM tasks WHERE status IN ('pending', 'processing') "
    "   ORDER BY account_id LIMIT 1) "
    "  UNION ALL "
    "  SELECT (SELECT t.account_id FROM tasks t "
    "          WHERE t.status IN ('pending', 'processing') AND t.account_id > b.account_id "
    "          ORDER BY t.account_id LIMIT 1) "
    "  FROM busy b WHERE b.account_id IS NOT NULL), "
    "load AS MATERIALIZED ("
    "  SELECT b.account_id, (SELECT count(*) FROM tasks p WHERE p.account_id = b.account_id "
    "    AND p.status = 'processing' AND p.lease_expires_at >= now()) AS in_flight "
    "  FROM busy b WHERE b.account_id IS NOT NULL) "
    "SELECT c.id FROM load l CROSS JOIN LATERAL ("
    "  SELECT r.id FROM ("
    "    (SELECT t.id FROM tasks t WHERE t.account_id = l.account_id AND t.status = 'pending' "
    "       AND (t.not_before IS NULL OR t.not_before <= now()) ORDER BY t.id LIMIT $1) "
    "    UNION ALL "
    "    (SELECT t.id FROM tasks t WHERE t.account_id = l.account_id "
    "       AND t.status = 'processing' AND t.lease_expires_at < now() ORDER BY t.id LIMIT $1)"
    "  ) r ORDER BY r.id "
    "  LIMIT CASE WHEN $2 > 0 THEN greatest(least($1, $2 - l.in_flight), 0) ELSE $1 END) c "
    "ORDER BY l.in_flight + row_number() OVER (PARTITION BY l.account_id ORDER BY c.id), c.id";

// Takes the first $4 candidates ($3, in order) that are still runnable and
// not locked by another transaction.
constexpr const char* kClaimSql =
    "WITH picked AS ("
    "  SELECT t.id, c.turn FROM unnest($3::bigint[]) WITH ORDINALITY AS c(id, turn) "
    "  JOIN tasks t ON t.id = c.id "
    "  WHERE (t.status = 'pending' AND (t.not_before IS NULL OR t.not_before <= now())) "
    "     OR (t.status = 'processing' AND t.lease_expires_at < now()) "
    "  ORDER BY c.turn LIMIT $4 FOR UPDATE OF t SKIP LOCKED), "
    "claimed AS ("
    "  UPDATE tasks SET status = 'processing', lease_owner = $1, "
    "    lease_expires_at = now() + make_interval(secs => $2), "
    "    attempts = attempts + 1, claims = claims + 1, started_at = now(), "
    // Taken over from a claim whose lease ran out: that claim may have
    // stored a file it never recorded (retention deletes its key).
    "    abandoned_claims = CASE WHEN status = 'processing' "
    "      THEN abandoned_claims || claims ELSE abandoned_claims END "
    "  WHERE id IN (SELECT id FROM picked) "
    "  RETURNING id, job_id, url, attempts, run_alone, storage_full_since, claims) "
    "SELECT c.id, c.job_id, c.url, j.endpoint, j.options::text, a.public_id, c.attempts, "
    "c.run_alone, coalesce(extract(epoch FROM now() - c.storage_full_since), 0)::float8, "
    "c.claims, " ENCONVERT_KEY_STAMP_SQL("j.created_at") " "
    "FROM claimed c JOIN picked p ON p.id = c.id JOIN jobs j ON j.id = c.job_id "
    "JOIN accounts a ON a.id = j.account_id "
    "ORDER BY p.turn";

std::string id_array(const pqxx::result& rows) {
    std::string ids = "{";
    for (pqxx::result::size_type i = 0; i < rows.size(); ++i)
        ids += (i ? "," : "") + rows[i][0].as<std::string>();
    return ids + "}";
}

ClaimedTask claimed_task(const pqxx::row& row) {
    ClaimedTask c;
    c.task_id = row[0].as<std::int64_t>();
    c.job_id = row[1].as<std::string>();
    c.url = row[2].as<std::string>();
    c.endpoint = row[3].as<std::string>();
    c.options = nlohmann::json::parse(row[4].as<std::string>());
    c.account_public_id = row[5].as<std::string>();
    c.attempts = row[6].as<int>();
    c.run_alone = row[7].as<bool>();
    c.storage_full_seconds = row[8].as<double>();
    c.claim = row[9].as<int>();
    c.key_stamp = row[10].as<std::string>();
    return c;
}

}  // namespace

ClaimResult claim_batch_in(pqxx::transaction_base& tx, const std::string& owner, int lease_seconds,
                           const ClaimLimits& limits) {
    ClaimResult out;
    if (limits.batch <= 0) return out;
    // Counting an account's tasks in flight and taking more must not
    // interleave with another worker doing the same, or both could fill its
    // last free place. The lock is taken in a statement of its own: the
    // next statement's snapshot then sees every claim committed before it.
    if (limits.account_max_in_flight > 0)
        exec_named(tx, "enconvert_claim_lock", "SELECT pg_advisory_xact_lock($1, 0)",
                   kClaimLockSpace);
    const pqxx::result candidates = exec_named(tx, "enconvert_claim_candidates", kCandidatesSql,
                                               limits.batch, limits.account_max_in_flight);
    if (candidates.empty()) return out;
    const pqxx::result r = exec_named(tx, "enconvert_claim_tasks", kClaimSql, owner, lease_seconds,
                                      id_array(candidates), limits.batch);
    for (const auto& row : r) out.tasks.push_back(claimed_task(row));
    const auto taken = static_cast<pqxx::result::size_type>(out.tasks.size());
    out.contended =
        taken < static_cast<pqxx::result::size_type>(limits.batch) && taken < candidates.size();
    return out;
}

ClaimResult claim_batch(pqxx::connection& conn, const std::string& owner, int lease_seconds,
                        const ClaimLimits& limits) {
    pqxx::work tx(conn);
    // Durable, as acceptance and results are (one WAL flush per claimed
    // batch): a claim's number names the object key its render is stored
    // under (migration 016). Committed without waiting for the flush, a
    // claim lost with a database crash gave the next claim the same number,
    // so two renders were stored under one key and the one whose result was
    // refused removed the other's recorded file.
    ClaimResult out = claim_batch_in(tx, owner, lease_seconds, limits);
    tx.commit();
    return out;
}

std::vector<ClaimedTask> claim_tasks_in(pqxx::transaction_base& tx, const std::string& owner,
                                        int lease_seconds, int limit) {
    return claim_batch_in(tx, owner, lease_seconds, ClaimLimits{limit, 0}).tasks;
}

std::vector<ClaimedTask> claim_tasks(pqxx::connection& conn, const std::string& owner,
                                     int lease_seconds, int limit) {
    return claim_batch(conn, owner, lease_seconds, ClaimLimits{limit, 0}).tasks;
}

}  // namespace enconvert::db

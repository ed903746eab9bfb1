#include "db/notification_store.h"

#include <algorithm>
#include <utility>

#include "db/fields.h"
#include "util/utf8.h"

namespace enconvert::db {

namespace {

// AccountShare::held as two PostgreSQL array literals (ids, counts).
std::pair<std::string, std::string> held_arrays(const AccountShare& share) {
    std::string ids = "{", counts = "{";
    for (const auto& [account, rows] : share.held) {
        const char* sep = ids.size() > 1 ? "," : "";
        ids += sep + std::to_string(account);
        counts += sep + std::to_string(rows);
    }
    return {ids + "}", counts + "}"};
}

}  // namespace

std::vector<ClaimedNotification> claim_notifications(pqxx::connection& conn,
                                                     const std::string& owner, int lease_seconds,
                                                     int limit, const AccountShare& share) {
    const auto [held_ids, held_counts] = held_arrays(share);
    pqxx::work tx(conn);
    // The oldest due rows of accounts below their share, at most as many of
    // each account as its share has room for. The candidates are read
    // without locks (a window function cannot take them), so the locking
    // step checks the state again. Looking at 4 x limit candidates bounds
    // the work; an account that fills them and reaches its share is
    // skipped by the next claim, which then reaches the others.
    const pqxx::result r = tx.exec_params(
        "WITH held AS (SELECT * FROM unnest($4::bigint[], $5::int[]) AS h(account_id, rows)), "
        "cand AS ("
        "  SELECT n.id, n.next_attempt_at, j.account_id, $6 - coalesce(h.rows, 0) AS room "
        "  FROM notifications n JOIN jobs j ON j.id = n.job_id "
        "  LEFT JOIN held h ON h.account_id = j.account_id "
        "  WHERE n.state = 'pending' AND n.next_attempt_at <= now() AND coalesce(h.rows, 0) < $6 "
        "  ORDER BY n.next_attempt_at, n.id LIMIT $3 * 4), "
        "ranked AS ("
        "  SELECT id, next_attempt_at, room, row_number() OVER "
        "    (PARTITION BY account_id ORDER BY next_attempt_at, id) AS rn FROM cand), "
        "claimed AS ("
        "  UPDATE notifications SET state = 'sending', claimed_by = $1, "
        "    lease_expires_at = now() + make_interval(secs => $2), "
        "    attempts = attempts + 1, updated_at = now() "
        "  WHERE id IN (SELECT n.id FROM notifications n JOIN ranked r ON r.id = n.id "
        "    WHERE r.rn <= r.room AND n.state = 'pending' AND n.next_attempt_at <= now() "
        "    ORDER BY r.next_attempt_at, r.id LIMIT $3 FOR UPDATE OF n SKIP LOCKED) "
        "  RETURNING id, job_id, type, target, attempts) "
        "SELECT c.id, c.job_id, c.type, c.target, c.attempts, j.account_id, a.webhook_secret "
        "FROM claimed c JOIN jobs j ON j.id = c.job_id JOIN accounts a ON a.id = j.account_id "
        "ORDER BY c.id",
        owner, lease_seconds, limit, held_ids, held_counts, share.max_per_account);
    try {
        tx.commit();
    } catch (const pqxx::in_doubt_error& e) {
        std::vector<std::int64_t> ids;
        for (const auto& row : r) ids.push_back(row[0].as<std::int64_t>());
        throw ClaimInDoubt(e, std::move(ids));
    }
    std::vector<ClaimedNotification> out;
    for (const auto& row : r) {
        ClaimedNotification n;
        n.id = row[0].as<std::int64_t>();
        n.job_id = row[1].as<std::string>();
        n.type = row[2].as<std::string>();
        n.target = row[3].as<std::string>();
        n.attempts = row[4].as<int>();
        n.account_id = row[5].as<std::int64_t>();
        n.webhook_secret = opt_string(row[6]);
        out.push_back(std::move(n));
    }
    return out;
}

bool record_delivery(pqxx::connection& conn, const std::string& owner, const DeliveryRecord& r) {
    using State = DeliveryRecord::State;
    const std::string state = r.state == State::delivered ? "delivered"
                              : r.state == State::retry   ? "pending"
                                                          : "failed";
    pqxx::work tx(conn);
    const pqxx::result upd = tx.exec_params(
        "UPDATE notifications SET state = $3, response_code = $4, error = $5, "
        "  claimed_by = NULL, lease_expires_at = NULL, updated_at = now(), "
        "  delivered_at = CASE WHEN $3 = 'delivered' THEN now() END, "
        "  next_attempt_at = now() + make_interval(secs => $6) "
        "WHERE id = $1 AND attempts = $8 AND ((claimed_by = $2 AND state = 'sending') "
        "  OR (claimed_by IS NULL AND state IN ('pending', 'failed') "
        "      AND error = $7))",
        r.id, owner, state, r.response_code,
        r.error ? std::optional<std::string>(util::valid_utf8(*r.error)) : std::nullopt,
        static_cast<double>(r.retry_after.count()), std::string(kInterruptedError), r.attempts);
    tx.commit();
    return upd.affected_rows() == 1;
}

bool release_claim(pqxx::connection& conn, const std::string& owner, std::int64_t id,
                   std::chrono::milliseconds not_before) {
    pqxx::work tx(conn);
    const pqxx::result upd = tx.exec_params(
        "UPDATE notifications SET state = 'pending', attempts = attempts - 1, "
        "  claimed_by = NULL, lease_expires_at = NULL, updated_at = now(), "
        "  next_attempt_at = greatest(next_attempt_at, "
        "                             now() + make_interval(secs => $3::float8 / 1000)) "
        "WHERE id = $1 AND claimed_by = $2 AND state = 'sending'",
        id, owner, static_cast<double>(not_before.count()));
    tx.commit();
    return upd.affected_rows() == 1;
}

int settle_interrupted(pqxx::connection& conn, int webhook_retries, int email_retries) {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_params(
        "UPDATE notifications SET "
        "  state = CASE WHEN (type = 'webhook' AND attempts <= $1) "
        "                 OR (type = 'email' AND attempts <= $2) "
        "               THEN 'pending' ELSE 'failed' END, "
        "  error = $3, claimed_by = NULL, lease_expires_at = NULL, updated_at = now(), "
        "  next_attempt_at = now() "
        "WHERE id IN (SELECT id FROM notifications "
        "  WHERE state = 'sending' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED)",
        webhook_retries, email_retries, std::string(kInterruptedError));
    tx.commit();
    return static_cast<int>(r.affected_rows());
}

std::optional<double> seconds_until_next_due(pqxx::connection& conn, const AccountShare& share) {
    const auto [held_ids, held_counts] = held_arrays(share);
    pqxx::read_transaction tx(conn);
    // No greatest(0, …) in SQL: PostgreSQL's greatest skips NULLs, which
    // turned "nothing pending" into "due now" and the loop into a busy poll.
    // Rows of accounts at their share are not counted for the same reason:
    // they are due, but cannot be claimed until one of theirs ends.
    const pqxx::row r = tx.exec_params1(
        "SELECT extract(epoch FROM min(n.next_attempt_at) - now())::float8 "
        "FROM notifications n JOIN jobs j ON j.id = n.job_id "
        "LEFT JOIN unnest($1::bigint[], $2::int[]) AS h(account_id, rows) "
        "  ON h.account_id = j.account_id "
        "WHERE n.state = 'pending' AND coalesce(h.rows, 0) < $3",
        held_ids, held_counts, share.max_per_account);
    tx.commit();
    if (r[0].is_null()) return std::nullopt;
    return std::max(0.0, r[0].as<double>());
}

}  // namespace enconvert::db

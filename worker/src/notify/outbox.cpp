#include "notify/outbox.h"

namespace enconvert::notify {

using nlohmann::json;

int enqueue_notifications(pqxx::transaction_base& tx, const std::string& job_id) {
    // ON CONFLICT: the unique (job_id, type) makes a second call a no-op, so
    // the job's owner can never send a notification twice.
    const pqxx::result r = tx.exec_params(
        "INSERT INTO notifications (job_id, type, target) "
        "SELECT j.id, t.type, t.target FROM jobs j "
        "CROSS JOIN LATERAL (VALUES ('webhook', j.callback_url), "
        "                           ('email', j.notification_email)) AS t(type, target) "
        "WHERE j.id = $1 AND t.target IS NOT NULL AND t.target <> '' "
        "ON CONFLICT (job_id, type) DO NOTHING",
        job_id);
    const int inserted = static_cast<int>(r.affected_rows());
    if (inserted > 0) tx.exec_params("SELECT pg_notify($1, '')", std::string(kNotifyChannel));
    return inserted;
}

namespace {

constexpr const char* kNotificationsSql =
    "SELECT t.type, t.target, coalesce(n.state, 'pending'), n.response_code, n.error, "
    "coalesce(n.attempts, 0) FROM jobs j "
    "CROSS JOIN LATERAL (VALUES (1, 'webhook', j.callback_url), "
    "                           (2, 'email', j.notification_email)) AS t(ord, type, target) "
    "LEFT JOIN notifications n ON n.job_id = j.id AND n.type = t.type "
    "WHERE j.id = $1 AND t.target IS NOT NULL AND t.target <> '' ORDER BY t.ord";

json notification_list(const pqxx::result& r) {
    json list = json::array();
    for (const auto& row : r) {
        std::string state = row[2].as<std::string>();
        // "sending" is an internal lease state; to the client it is not done.
        if (state == "sending") state = "pending";
        list.push_back(json{
            {"type", row[0].as<std::string>()},
            {"target", row[1].as<std::string>()},
            {"state", state},
            {"response_code", row[3].is_null() ? json(nullptr) : json(row[3].as<int>())},
            {"error", row[4].is_null() ? json(nullptr) : json(row[4].as<std::string>())},
            {"attempts", row[5].as<int>()},
        });
    }
    return list;
}

}  // namespace

json notifications_for_job(pqxx::transaction_base& tx, const std::string& job_id) {
    return notification_list(tx.exec_params(kNotificationsSql, job_id));
}

json notifications_for_job(pqxx::connection& conn, const std::string& job_id) {
    // The status endpoint's second (and last) round trip: prepared, no
    // explicit transaction.
    conn.prepare("enconvert_notifications_for_job", kNotificationsSql);
    pqxx::nontransaction tx(conn);
    return notification_list(tx.exec_prepared("enconvert_notifications_for_job", job_id));
}

}  // namespace enconvert::notify

#include "db/notification_outbox.h"

#include "db/prepared.h"

namespace enconvert::db {

int enqueue_notifications(pqxx::transaction_base& tx, const std::string& job_id) {
    // ON CONFLICT: the unique (job_id, type) makes a second call a no-op, so
    // the job's owner can never send a notification twice.
    const pqxx::result r =
        exec_named(tx, "enconvert_enqueue_notifications",
                   "INSERT INTO notifications (job_id, type, target) "
                   "SELECT j.id, t.type, t.target FROM jobs j "
                   "CROSS JOIN LATERAL (VALUES ('webhook', j.callback_url), "
                   "                           ('email', j.notification_email)) AS t(type, target) "
                   "WHERE j.id = $1 AND t.target IS NOT NULL AND t.target <> '' "
                   "ON CONFLICT (job_id, type) DO NOTHING",
                   job_id);
    const int inserted = static_cast<int>(r.affected_rows());
    if (inserted > 0)
        exec_named(tx, "enconvert_notify_empty", "SELECT pg_notify($1, '')",
                   std::string(kNotifyChannel));
    return inserted;
}

}  // namespace enconvert::db

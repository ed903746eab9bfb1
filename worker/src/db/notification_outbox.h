// The notification outbox: rows written in the transaction that makes a job
// terminal (so a crash can neither lose nor double them) and read back for
// the status object. The Notifier thread delivers them.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

namespace enconvert::db {

// NOTIFY'd when outbox rows are written; every Notifier LISTENs on it.
inline constexpr const char* kNotifyChannel = "enconvert_notify";

// Inside the caller's transaction: one pending row per notification the job
// asked for (callback_url -> webhook, notification_email -> email) and a
// NOTIFY on enconvert_notify, delivered when the transaction commits.
// Idempotent: calling it twice for a job inserts nothing the second time.
// Returns the number of rows inserted.
int enqueue_notifications(pqxx::transaction_base& tx, const std::string& job_id);

// The status object lists the rows with its job (db::load_job,
// JobView::notifications).

}  // namespace enconvert::db

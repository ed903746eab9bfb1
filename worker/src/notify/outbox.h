// The notification outbox: rows written in the transaction that makes a job
// terminal (so a crash can neither lose nor double them) and read back for
// the status object. The Notifier thread delivers them.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

namespace enconvert::notify {

// NOTIFY'd when outbox rows are written; every Notifier LISTENs on it.
inline constexpr const char* kNotifyChannel = "enconvert_notify";

// Inside the caller's transaction: one pending row per notification the job
// asked for (callback_url -> webhook, notification_email -> email) and a
// NOTIFY on enconvert_notify, delivered when the transaction commits.
// Idempotent: calling it twice for a job inserts nothing the second time.
// Returns the number of rows inserted.
int enqueue_notifications(pqxx::transaction_base& tx, const std::string& job_id);

// The status object's "notifications" list, webhook first:
// [{"type","target","state","response_code","error","attempts"}], state one of
// pending/delivered/failed (a row being sent is still "pending"). A job that
// asked for a notification but is not terminal yet lists it as pending with
// 0 attempts. Empty array for a job without notifications.
nlohmann::json notifications_for_job(pqxx::transaction_base& tx, const std::string& job_id);
// Same, in a read-only transaction of its own on `conn`.
nlohmann::json notifications_for_job(pqxx::connection& conn, const std::string& job_id);

}  // namespace enconvert::notify

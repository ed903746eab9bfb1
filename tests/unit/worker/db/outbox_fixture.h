// What the outbox, notification store and notifier tests share: an account
// with a key on the test cluster, finished jobs with their notification
// rows, and a row as the database holds it.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "auth/api_keys.h"
#include "db/job_repository.h"
#include "db/key_repository.h"
#include "db/notification_outbox.h"
#include "pg_fixture.h"
#include "util/ids.h"

namespace enconvert::test_support {

// A PgTest with a connection and one account ("acme") with a key.
class PgAccountTest : public PgTest {
  protected:
    void SetUp() override {
        PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        key_ = db::create_key(*conn_, "acme", auth::key_hash_hex(auth::generate_api_key()),
                              "sk_live_acme");
    }

    std::unique_ptr<pqxx::connection> conn_;
    db::CreatedKey key_;
};

// A notification row as the database holds it; state "absent" when there
// is none of that type for the job.
struct NotificationRow {
    std::string state;
    int attempts = 0;
    std::optional<int> response_code;
    std::optional<std::string> error;
    bool claimed = false;
};

inline NotificationRow notification_row(pqxx::connection& conn, const std::string& job_id,
                                        const std::string& type) {
    pqxx::nontransaction tx(conn);
    const auto r = tx.exec_params(
        "SELECT state, attempts, response_code, error, claimed_by IS NOT NULL "
        "FROM notifications WHERE job_id = $1 AND type = $2",
        job_id, type);
    NotificationRow out;
    if (r.empty()) {
        out.state = "absent";
        return out;
    }
    out.state = r[0][0].as<std::string>();
    out.attempts = r[0][1].as<int>();
    if (!r[0][2].is_null()) out.response_code = r[0][2].as<int>();
    if (!r[0][3].is_null()) out.error = r[0][3].as<std::string>();
    out.claimed = r[0][4].as<bool>();
    return out;
}

// Tasks at `failed` positions fail (dns_error), the others succeed.
inline std::string insert_terminal_job(pqxx::connection& conn, const db::CreatedKey& key,
                                       const std::optional<std::string>& callback,
                                       const std::optional<std::string>& email, int tasks = 3,
                                       const std::set<int>& failed = {2}) {
    db::NewJob j;
    j.id = util::new_job_id(tasks > 1);
    j.account_id = key.account_id;
    j.api_key_id = key.key_id;
    j.endpoint = "url-to-pdf";
    j.is_batch = tasks > 1;
    j.base_url = "https://api.example.com";
    j.callback_url = callback;
    j.notification_email = email;
    for (int i = 0; i < tasks; ++i) {
        j.urls.push_back(failed.count(i) ? "https://invalid-url.example/" + std::to_string(i)
                                         : "https://example.com/page-" + std::to_string(i));
    }
    db::insert_job(conn, j);
    for (const auto& t : db::claim_tasks(conn, "test-sched", 60, 100)) {
        if (t.job_id != j.id) continue;
        db::TaskOutcome o;
        o.task_id = t.task_id;
        const int pos =
            static_cast<int>(std::find(j.urls.begin(), j.urls.end(), t.url) - j.urls.begin());
        o.ok = failed.count(pos) == 0;
        if (o.ok) {
            o.object_key = "live/files/" + key.account_public_id + "/url-to-pdf/page-" +
                           std::to_string(pos) + ".pdf";
            o.filename = "page.pdf";
            o.file_size = 1000 + pos;
            o.conversion_time = 1.5 + pos;
        } else {
            o.error_code = "dns_error";
            o.error = "Failed to load page: net::ERR_NAME_NOT_RESOLVED";
        }
        db::finish_task(conn, "test-sched", o);
    }
    pqxx::work tx(conn);
    db::enqueue_notifications(tx, j.id);  // a no-op if the core already did
    tx.commit();
    return j.id;
}

}  // namespace enconvert::test_support

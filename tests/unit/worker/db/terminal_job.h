// A job that has reached its end, finished through the real repository the
// way the scheduler finishes tasks, with its notification rows written as
// the core writes them in that transaction. Shared by the outbox, the
// notification store and the notifier tests.
#pragma once

#include <algorithm>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "db/job_repository.h"
#include "db/key_repository.h"
#include "db/notification_outbox.h"
#include "util/ids.h"

namespace enconvert::test_support {

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

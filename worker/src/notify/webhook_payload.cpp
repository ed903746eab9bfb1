#include "notify/webhook_payload.h"

#include <initializer_list>

#include "api/responses.h"

namespace enconvert::notify {

using nlohmann::json;

namespace {

// Copies only the listed keys that are present: the status object is the
// source of truth for values, this list for the contract's field set.
json pick(const json& from, std::initializer_list<const char*> keys) {
    json out = json::object();
    for (const char* k : keys) {
        if (auto it = from.find(k); it != from.end()) out[k] = *it;
    }
    return out;
}

}  // namespace

json webhook_payload(const db::JobView& job, const storage::Presigner& presigner) {
    const json status = api::status_object(job, presigner);
    json payload =
        pick(status, {"job_id", "status", "total_tasks", "completed_tasks", "failed_tasks"});
    json tasks = json::array();
    for (const json& t : status.at("tasks")) {
        if (t.value("status", "") == "success") {
            tasks.push_back(pick(t, {"url", "status", "presigned_url", "object_key", "file_size",
                                     "conversion_time"}));
        } else {
            tasks.push_back(pick(t, {"url", "status", "error"}));
        }
    }
    payload["tasks"] = std::move(tasks);
    return payload;
}

}  // namespace enconvert::notify

// The webhook body: exactly the fields of the reference page's callback
// payload, nothing else (clients may validate strictly).
#pragma once

#include <nlohmann/json.hpp>

#include "db/job_types.h"
#include "storage/presign.h"

namespace enconvert::notify {

// {job_id, status, total_tasks, completed_tasks, failed_tasks, tasks[]}; a
// task has url and status, plus presigned_url, object_key, file_size and
// conversion_time on success or error on failure. Presigned URLs are fresh.
nlohmann::json webhook_payload(const db::JobView& job, const storage::Presigner& presigner);

}  // namespace enconvert::notify

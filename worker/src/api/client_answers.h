// Answers in the shapes the vendor's clients read (docs/api.md "Routes for
// the vendor's clients"): the status of a sync job started with the
// client's own job_id, the batch route, who-am-i, key verification and the
// download of an owned file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "api/responses.h"
#include "db/job_types.h"
#include "db/key_repository.h"
#include "storage/presign.h"

namespace enconvert::api {

// Whether a job's status answers in the clients' sync vocabulary: a sync
// job with one URL started with a client job_id.
bool answers_as_client_job(const db::JobView& job);

// Whether a request's options ask for the batch ZIP (`output_format` true or
// "zip"; the module lets it through only with several URLs).
bool wants_zip(const nlohmann::json& options);

// {"job_id","status":"processing"|"success"|"failed", presigned_url,
//  object_key, filename, file_size, conversion_time_seconds on success,
//  error and error_code on failure}.
HttpAnswer client_status_answer(const db::JobView& job, const storage::Presigner& presigner);

// {"batch_id","job_id","status":"processing"|"completed"|"partial"|"failed",
//  total, completed, failed, in_progress, output_mode, zip_download_url,
//  items[{source_url,status,download_url,output_file_size,duration,error,
//  object_key}]}.
HttpAnswer batch_answer(const db::JobView& job, const storage::Presigner& presigner);

// GET /v1/whoami and GET /v1/auth/verify.
HttpAnswer whoami_answer(const db::ApiKeyIdentity& identity);
HttpAnswer verify_answer(const db::ApiKeyIdentity& identity);

// GET /v1/convert/download/{object_key}: the file if the key's account owns
// it (its object keys start with live/files/<account public id>/), else 404
// exactly like a file that does not exist.
HttpAnswer download_answer(const db::ApiKeyIdentity& identity, const std::string& object_key,
                           const storage::Presigner& presigner);

}  // namespace enconvert::api

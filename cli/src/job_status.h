// A job's status answer (GET /v1/convert/status/{job_id}, docs/api.md "Job
// status"), the members the client uses.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace enconvert::cli {

struct TaskResult {
    std::string url;
    std::string status;  // pending, processing, success, failed
    // success only:
    std::string presigned_url;
    std::string object_key;
    std::int64_t file_size = 0;
    // failed only: a sentence saying what went wrong
    std::string error;

    bool succeeded() const { return status == "success"; }
    bool failed() const { return status == "failed"; }
};

struct JobStatus {
    std::string job_id;
    std::string status;  // processing, completed, failed
    int total_tasks = 0;
    int completed_tasks = 0;  // tasks that succeeded
    int failed_tasks = 0;
    std::vector<TaskResult> tasks;

    bool finished() const { return status != "processing"; }
};

// Throws CliError(server_error) when `body` is not a status object.
JobStatus parse_job_status(const nlohmann::ordered_json& body);

}  // namespace enconvert::cli

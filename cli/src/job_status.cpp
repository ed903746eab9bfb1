#include "job_status.h"

#include "cli_error.h"
#include "json_fields.h"

namespace enconvert::cli {

namespace {

TaskResult parse_task(const nlohmann::ordered_json& item) {
    TaskResult task;
    task.url = item.at("url").get<std::string>();
    task.status = item.at("status").get<std::string>();
    if (task.succeeded()) {
        task.presigned_url = item.at("presigned_url").get<std::string>();
        task.object_key = item.at("object_key").get<std::string>();
        task.file_size = item.value("file_size", std::int64_t{0});
    } else if (task.failed()) {
        task.error = string_member(item, "error");
    }
    return task;
}

}  // namespace

JobStatus parse_job_status(const nlohmann::ordered_json& body) {
    try {
        JobStatus job;
        job.job_id = body.at("job_id").get<std::string>();
        job.status = body.at("status").get<std::string>();
        job.total_tasks = body.at("total_tasks").get<int>();
        job.completed_tasks = body.at("completed_tasks").get<int>();
        job.failed_tasks = body.at("failed_tasks").get<int>();
        for (const auto& item : body.at("tasks")) job.tasks.push_back(parse_task(item));
        return job;
    } catch (const nlohmann::ordered_json::exception& e) {
        throw CliError(
            ExitCode::server_error,
            std::string("the status answer is not the API's status object: ") + e.what());
    }
}

}  // namespace enconvert::cli

#include "status_report.h"

#include "api_error.h"

namespace enconvert::cli {

Progress progress_of(const JobStatus& job) {
    return Progress{job.total_tasks, job.completed_tasks, job.failed_tasks};
}

std::string status_report(const JobStatus& job) {
    std::string text =
        one_line(job.job_id + ": " + job.status + ", " + progress_counts(progress_of(job))) + "\n";
    constexpr std::size_t kStatusColumn = 10;  // "processing"
    for (const auto& task : job.tasks) {
        std::string state = task.status;
        if (state.size() < kStatusColumn) state.resize(kStatusColumn, ' ');
        std::string line = state + "  " + task.url;
        if (task.succeeded()) line += "  " + task.presigned_url;
        if (task.failed()) line += "  " + task.error;
        text += "  " + one_line(line, 4096) + "\n";
    }
    return text;
}

}  // namespace enconvert::cli

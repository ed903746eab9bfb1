#include "convert_command.h"

#include <chrono>
#include <thread>

#include "api_error.h"
#include "cli_error.h"
#include "progress_bar.h"
#include "result_download.h"
#include "result_files.h"
#include "status_report.h"

namespace enconvert::cli {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(500);
// A poll that fails for a moment (a worker restarting, a dropped
// connection) is tried again; this long without an answer ends the wait.
constexpr auto kUnansweredLimit = std::chrono::seconds(30);

bool worth_retrying(const CliError& error) {
    return error.code() == ExitCode::server_error || error.code() == ExitCode::network;
}

JobStatus wait_for_job(ApiClient& api, const std::string& job_id, ProgressDisplay& display) {
    auto last_answer = std::chrono::steady_clock::now();
    for (;;) {
        try {
            JobStatus job = api.status(job_id);
            last_answer = std::chrono::steady_clock::now();
            display.show(progress_of(job));
            if (job.finished()) return job;
        } catch (const CliError& error) {
            if (!worth_retrying(error) ||
                std::chrono::steady_clock::now() - last_answer > kUnansweredLimit) {
                throw;
            }
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

std::string url_count(std::size_t count) {
    return std::to_string(count) + (count == 1 ? " URL" : " URLs");
}

}  // namespace

int run_convert(const ConvertOptions& options, ApiClient& api, HttpClient& http,
                const Console& console) {
    // Before submitting: a directory that cannot be written must not cost a job.
    if (options.wait) prepare_output_dir(options.output_dir);
    const SubmittedJob submitted =
        api.submit(options.screenshot ? Endpoint::screenshot : Endpoint::pdf, options.urls);

    if (!options.wait) {
        console.out << submitted.job_id << '\n';
        console.err << "enconvert: submitted " << submitted.job_id << " ("
                    << url_count(options.urls.size()) << "); follow it with `enconvert status "
                    << submitted.job_id << "` or GET " << api.status_url(submitted.job_id) << '\n';
        return as_int(ExitCode::ok);
    }

    console.err << "enconvert: submitted " << submitted.job_id << " ("
                << url_count(options.urls.size()) << "), waiting for it\n";
    JobStatus job;
    {
        ProgressDisplay display(console.err, console.err_is_terminal);
        job = wait_for_job(api, submitted.job_id, display);
    }

    const std::vector<std::string> names = file_names_for(job.tasks);
    for (std::size_t i = 0; i < job.tasks.size(); ++i) {
        if (!job.tasks[i].succeeded()) continue;
        const auto saved = download_result(http, job.tasks[i], options.output_dir, names[i]);
        console.out << saved.string() << '\n' << std::flush;
    }
    bool any_failed = false;
    for (const auto& task : job.tasks) {
        if (task.succeeded()) continue;
        any_failed = true;
        const std::string why = task.failed() ? task.error : "ended as " + task.status;
        console.err << "enconvert: failed: " << one_line(task.url + ": " + why, 4096) << '\n';
    }
    return as_int(any_failed ? ExitCode::conversions_failed : ExitCode::ok);
}

}  // namespace enconvert::cli

#include "metrics/worker_metrics.h"

namespace enconvert::metrics {

namespace {
std::string str(std::string_view s) {
    return std::string(s);
}
}  // namespace

WorkerMetrics::WorkerMetrics()
    : jobs_accepted_("enconvert_jobs_accepted_total", "Jobs created by this worker's intake.",
                     {"endpoint"}),
      jobs_refused_("enconvert_jobs_refused_total",
                    "Jobs refused whole because the queue was full, by the bound reached.",
                    {"endpoint", "bound"}),
      jobs_finished_("enconvert_jobs_finished_total",
                     "Jobs this worker made terminal, by final status.", {"endpoint", "status"}),
      tasks_in_flight_("enconvert_tasks_in_flight",
                       "Tasks this worker is rendering or storing now.", {}),
      // A page renders in 0.3-5 s typically; the budget allows minutes.
      render_duration_("enconvert_render_duration_seconds",
                       "Render time of a task as the renderer reports it.", {"outcome"},
                       {0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}),
      renderer_restarts_("enconvert_renderer_restarts_total",
                         "Renderer children replaced: lost (crashed, hung) or recycled.",
                         {"reason"}),
      notifications_("enconvert_notifications_total",
                     "Notification delivery attempts by type and outcome.", {"type", "outcome"}),
      database_errors_("enconvert_database_errors_total",
                       "Database failures: lost connections and failed statements.", {"component"}),
      // The intake answers from memory and one transaction: milliseconds.
      intake_latency_("enconvert_intake_latency_seconds",
                      "Time from a request's arrival at the worker to its answer.", {"kind"},
                      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}),
      jobs_expired_("enconvert_jobs_expired_total",
                    "Finished jobs whose files and rows the retention janitor deleted.", {}) {
    jobs_expired_.add({}, 0);
    tasks_in_flight_.set({}, 0);
}

void WorkerMetrics::job_accepted(std::string_view endpoint) {
    jobs_accepted_.add({str(endpoint)});
}

void WorkerMetrics::job_refused(std::string_view endpoint, std::string_view bound) {
    jobs_refused_.add({str(endpoint), str(bound)});
}

void WorkerMetrics::job_finished(std::string_view endpoint, std::string_view status) {
    jobs_finished_.add({str(endpoint), str(status)});
}

void WorkerMetrics::render_finished(std::string_view outcome, double seconds) {
    render_duration_.observe({str(outcome)}, seconds);
}

void WorkerMetrics::set_tasks_in_flight(std::size_t tasks) {
    tasks_in_flight_.set({}, static_cast<double>(tasks));
}

void WorkerMetrics::renderer_restart(std::string_view reason) {
    renderer_restarts_.add({str(reason)});
}

void WorkerMetrics::notification(std::string_view type, std::string_view outcome) {
    notifications_.add({str(type), str(outcome)});
}

void WorkerMetrics::database_error(std::string_view component) {
    database_errors_.add({str(component)});
}

void WorkerMetrics::jobs_expired(std::size_t jobs) {
    jobs_expired_.add({}, static_cast<double>(jobs));
}

void WorkerMetrics::intake_request(std::string_view kind, double seconds) {
    intake_latency_.observe({str(kind)}, seconds);
}

std::string WorkerMetrics::render(const std::optional<QueueSnapshot>& queue) const {
    std::string out;
    GaugeFamily up("enconvert_database_up",
                   "1 when this scrape could read the task counts from the database.", {});
    up.set({}, queue ? 1 : 0);
    up.render(out);
    if (queue) {
        GaugeFamily tasks("enconvert_tasks",
                          "Tasks of all workers by state, from the database at scrape time.",
                          {"state"});
        tasks.set({"queued"}, static_cast<double>(queue->pending));
        tasks.set({"processing"}, static_cast<double>(queue->processing));
        tasks.render(out);
    }
    for (const Family* f : std::initializer_list<const Family*>{
             &jobs_accepted_, &jobs_refused_, &jobs_finished_, &tasks_in_flight_, &render_duration_,
             &renderer_restarts_, &notifications_, &database_errors_, &intake_latency_,
             &jobs_expired_})
        f->render(out);
    return out;
}

WorkerMetrics& worker_metrics() {
    static WorkerMetrics metrics;
    return metrics;
}

}  // namespace enconvert::metrics

// The worker's metrics (docs/metrics.md lists them): one instance per
// process, updated by the components where the events happen and rendered
// by the metrics endpoint. Label values come from small fixed sets
// (endpoints, outcomes, component names), so memory stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "metrics/registry.h"

namespace enconvert::metrics {

// Tasks across all workers, read from the database at scrape time.
struct QueueSnapshot {
    std::int64_t pending = 0;
    std::int64_t processing = 0;
};

class WorkerMetrics {
  public:
    WorkerMetrics();

    void job_accepted(std::string_view endpoint);
    // A job refused whole because the queue was full; bound "account" or
    // "global".
    void job_refused(std::string_view endpoint, std::string_view bound);
    // status: "completed" or "failed".
    void job_finished(std::string_view endpoint, std::string_view status);
    // A renderer's answer for a task; outcome "success" or "failure".
    void render_finished(std::string_view outcome, double seconds);
    void set_tasks_in_flight(std::size_t tasks);
    // reason: "lost" (crashed, hung, killed) or "recycled" (planned).
    void renderer_restart(std::string_view reason);
    // type "email"/"webhook"; outcome "delivered", "retry" or "failed".
    void notification(std::string_view type, std::string_view outcome);
    void database_error(std::string_view component);
    // Jobs the retention janitor expired (files and rows deleted).
    void jobs_expired(std::size_t jobs);
    // kind "convert", "status" or "health": receipt to answer.
    void intake_request(std::string_view kind, double seconds);

    // The whole exposition. `queue`: the database's task counts, or nullopt
    // when they could not be read (enconvert_database_up 0).
    std::string render(const std::optional<QueueSnapshot>& queue) const;

    const CounterFamily& jobs_accepted() const { return jobs_accepted_; }
    const CounterFamily& jobs_finished() const { return jobs_finished_; }
    const CounterFamily& notifications() const { return notifications_; }
    const CounterFamily& database_errors() const { return database_errors_; }
    const CounterFamily& renderer_restarts() const { return renderer_restarts_; }
    const HistogramFamily& render_duration() const { return render_duration_; }
    const HistogramFamily& intake_latency() const { return intake_latency_; }

  private:
    CounterFamily jobs_accepted_;
    CounterFamily jobs_refused_;
    CounterFamily jobs_finished_;
    GaugeFamily tasks_in_flight_;
    HistogramFamily render_duration_;
    CounterFamily renderer_restarts_;
    CounterFamily notifications_;
    CounterFamily database_errors_;
    HistogramFamily intake_latency_;
    CounterFamily jobs_expired_;
};

// This process's metrics.
WorkerMetrics& worker_metrics();

}  // namespace enconvert::metrics

#include "metrics/worker_metrics.h"

#include <gtest/gtest.h>

using namespace enconvert::metrics;

namespace {

TEST(WorkerMetrics, EveryFamilyIsExposedEvenBeforeItsFirstEvent) {
    const WorkerMetrics m;
    const std::string out = m.render(std::nullopt);
    for (const char* family :
         {"enconvert_database_up", "enconvert_jobs_accepted_total", "enconvert_jobs_finished_total",
          "enconvert_tasks_in_flight", "enconvert_render_duration_seconds",
          "enconvert_renderer_restarts_total", "enconvert_notifications_total",
          "enconvert_database_errors_total", "enconvert_intake_latency_seconds"})
        EXPECT_NE(out.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
    EXPECT_NE(out.find("\nenconvert_database_up 0\n"), std::string::npos);
    EXPECT_NE(out.find("\nenconvert_tasks_in_flight 0\n"), std::string::npos);
    EXPECT_EQ(out.find("enconvert_tasks{"), std::string::npos) << "no counts without a database";
}

TEST(WorkerMetrics, EventsMoveTheirSeries) {
    WorkerMetrics m;
    m.job_accepted("url-to-pdf");
    m.job_finished("url-to-pdf", "completed");
    m.job_refused("url-to-pdf", "account");
    m.render_finished("success", 1.2);
    m.set_tasks_in_flight(3);
    m.renderer_restart("lost");
    m.notification("webhook", "retry");
    m.database_error("intake");
    m.intake_request("convert", 0.002);
    const std::string out = m.render(QueueSnapshot{7, 2});
    for (const char* line :
         {"\nenconvert_database_up 1\n", "\nenconvert_tasks{state=\"queued\"} 7\n",
          "\nenconvert_tasks{state=\"processing\"} 2\n",
          "\nenconvert_jobs_accepted_total{endpoint=\"url-to-pdf\"} 1\n",
          "\nenconvert_jobs_finished_total{endpoint=\"url-to-pdf\",status=\"completed\"} 1\n",
          "\nenconvert_jobs_refused_total{endpoint=\"url-to-pdf\",bound=\"account\"} 1\n",
          "\nenconvert_tasks_in_flight 3\n",
          "\nenconvert_render_duration_seconds_count{outcome=\"success\"} 1\n",
          "\nenconvert_renderer_restarts_total{reason=\"lost\"} 1\n",
          "\nenconvert_notifications_total{type=\"webhook\",outcome=\"retry\"} 1\n",
          "\nenconvert_database_errors_total{component=\"intake\"} 1\n",
          "\nenconvert_intake_latency_seconds_count{kind=\"convert\"} 1\n"})
        EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
}

}  // namespace

// A terminal three-task job (two successes, one failure) as the notifier
// reads it, shared by the payload and email tests.
#pragma once

#include <string>

#include "db/job_types.h"

namespace enconvert::test_support {

inline db::JobView three_task_job() {
    db::JobView job;
    job.id = "batch_0123456789abcdef0123456789abcdef";
    job.account_id = 1;
    job.endpoint = "url-to-pdf";
    job.status = "completed";
    job.base_url = "https://api.example.com";
    job.created_at = "2026-01-01T00:00:00Z";
    job.completed_at = "2026-01-01T00:00:09Z";
    db::TaskView a;
    a.id = 1;
    a.position = 0;
    a.url = "https://example.com/page-1";
    a.status = "success";
    a.object_key = "live/files/abc123/url-to-pdf/page-1_20260101T000003Z_1.pdf";
    a.filename = "page-1.pdf";
    a.file_size = 184320;
    a.conversion_time = 3.12;
    db::TaskView b = a;
    b.id = 2;
    b.position = 1;
    b.url = "https://example.com/page-2";
    b.object_key = "live/files/abc123/url-to-pdf/page-2_20260101T000004Z_2.pdf";
    b.filename = "page-2.pdf";
    b.file_size = 210944;
    b.conversion_time = 4.55;
    db::TaskView c;
    c.id = 3;
    c.position = 2;
    c.url = "https://invalid-url.example";
    c.status = "failed";
    c.error_code = "dns_error";
    c.error = "Failed to load page: net::ERR_NAME_NOT_RESOLVED";
    job.tasks = {a, b, c};
    return job;
}

// A website capture of https://example.com/site/ whose discovery found
// nothing to capture: failed, no task, the reason on the job.
inline db::JobView failed_discovery_job(const std::string& code, const std::string& error) {
    db::JobView job = three_task_job();
    job.endpoint = "website-to-pdf";
    job.status = "failed";
    job.tasks.clear();
    job.options = {{"url", "https://example.com/site/"}};
    job.discovery_state = "failed";
    job.discovery_error_code = code;
    job.discovery_error = error;
    return job;
}

}  // namespace enconvert::test_support

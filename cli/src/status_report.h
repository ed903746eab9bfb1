// The text `enconvert status` prints for a job: a summary line, then one
// line per URL with its state and its download link or its error.
#pragma once

#include <string>

#include "job_status.h"
#include "progress_bar.h"

namespace enconvert::cli {

Progress progress_of(const JobStatus& job);

// "batch_…: completed, 3/3 finished (2 converted, 1 failed)\n"
// "  success     https://example.com/a  https://api…/v1/files/…\n"
// "  failed      https://example.com/b  Failed to load page: …\n"
std::string status_report(const JobStatus& job);

}  // namespace enconvert::cli

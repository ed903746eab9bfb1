// Saving a finished task's file through its presigned link. The link is its
// own authorisation (docs/api.md, "Downloads"): no API key is sent with it.
#pragma once

#include <filesystem>
#include <string>

#include "http_client.h"
#include "job_status.h"

namespace enconvert::cli {

// Creates `dir` (and its parents) if missing; CliError(local_file) if it
// cannot, or if it is not a directory.
void prepare_output_dir(const std::filesystem::path& dir);

// Downloads `task`'s file to dir/name and returns that path. The bytes go
// to a hidden ".<name>.part" file first, renamed once complete, so an
// interrupted download never leaves a file that looks finished.
std::filesystem::path download_result(HttpClient& http, const TaskResult& task,
                                      const std::filesystem::path& dir, const std::string& name);

}  // namespace enconvert::cli

// Turns a renderer's result for a claimed task into the outcome recorded in
// the database, storing the rendered file on success.
#pragma once

#include <chrono>
#include <filesystem>

#include "db/job_types.h"
#include "render/renderer_pool.h"
#include "storage/local_storage.h"

namespace enconvert::scheduler {

// render_ms → seconds rounded to 2 decimals.
double conversion_seconds(double render_ms);

// On success moves temp_file into storage under its object key; on failure
// (or if storing fails) removes temp_file and reports the error. Never throws.
db::TaskOutcome make_outcome(const db::ClaimedTask& task, const render::RenderResult& result,
                             storage::LocalStorage& storage, const std::filesystem::path& temp_file,
                             std::chrono::system_clock::time_point now);

}  // namespace enconvert::scheduler

// Reads the `options` map of a render request (the API body's fields,
// docs/api.md) into a Job. The nginx module validates the body already; this is
// the child's own defence, so every field is checked again for type and
// range and a bad one is named in the rejection.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "render_child/job.h"

namespace enconvert::render_child {

// Returns an empty string when every option was acceptable, otherwise a
// sentence naming the offending field. `job.format` must already be set.
std::string read_options(const nlohmann::json& options, Job& job);

}  // namespace enconvert::render_child

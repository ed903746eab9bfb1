// The names results are saved under. The status answer gives each file's
// object key, ".../<name>_<yyyymmddThhmmssZ>_<task id>[-<attempt>].<ext>" (docs/api.md,
// "File names and object keys"); the file is saved as "<name>.<ext>", the
// name the API's own `filename` member would give.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "job_status.h"

namespace enconvert::cli {

// "<name>.<ext>" from an object key; the key's last segment when it has
// another shape. Never a path: only [A-Za-z0-9._-], no leading '.'.
std::string file_name_for(std::string_view object_key);

// One name per task, in task order ("" for tasks without a file). Names
// are unique: a name several files would share gets "-<n>" before its
// extension, n being the task's place in the request (1-based), so
// "example-com.pdf" twice gives "example-com-1.pdf" and "example-com-2.pdf".
std::vector<std::string> file_names_for(const std::vector<TaskResult>& tasks);

}  // namespace enconvert::cli

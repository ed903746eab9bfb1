#include "scheduler/task_outcome.h"

#include <cmath>

#include "storage/object_key.h"
#include "util/log.h"

namespace enconvert::scheduler {

double conversion_seconds(double render_ms) {
    if (!(render_ms > 0)) return 0.0;
    return std::round(render_ms / 10.0) / 100.0;
}

db::TaskOutcome make_outcome(const db::ClaimedTask& task, const render::RenderResult& result,
                             storage::LocalStorage& storage, const std::filesystem::path& temp_file,
                             std::chrono::system_clock::time_point now) {
    db::TaskOutcome o;
    o.task_id = task.task_id;
    if (result.ok) {
        const std::string format = storage::format_for(task.endpoint, task.options);
        const std::string ext = storage::extension_for(format);
        const std::string name = storage::output_name(task.options, task.url, ext);
        o.object_key = storage::build_object_key(task.account_public_id, task.endpoint, name,
                                                 storage::utc_stamp(now), task.task_id, ext);
        o.filename = name + "." + ext;
        try {
            o.file_size = static_cast<std::int64_t>(storage.store(temp_file, o.object_key));
            o.conversion_time = conversion_seconds(result.render_ms);
            o.ok = true;
            return o;
        } catch (const std::exception& e) {
            util::log_event("scheduler", "task " + std::to_string(task.task_id) +
                                             ": storing the result failed: " + e.what());
            o.error_code = "storage_failed";
            o.error = "The rendered file could not be stored.";
        }
    } else {
        o.error_code = result.error_code.empty() ? "render_failed" : result.error_code;
        o.error = result.error.empty() ? "The page could not be rendered." : result.error;
    }
    std::error_code ec;
    std::filesystem::remove(temp_file, ec);
    o.ok = false;
    o.object_key.clear();
    o.filename.clear();
    return o;
}

}  // namespace enconvert::scheduler

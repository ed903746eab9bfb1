#include "render_child/job.h"

namespace enconvert::render_child {
namespace {

// Viewports beyond this are refused: a snapshot is width*height*4 bytes.
constexpr int kMaxViewportSide = 8192;

bool read_int(const nlohmann::json& options, const char* key, int min, int max, int& out,
              std::string& why) {
    auto it = options.find(key);
    if (it == options.end()) return true;
    if (!it->is_number_integer() || it->get<std::int64_t>() < min ||
        it->get<std::int64_t>() > max) {
        why = std::string("option ") + key + " must be an integer in [" + std::to_string(min) +
              ", " + std::to_string(max) + "]";
        return false;
    }
    out = static_cast<int>(it->get<std::int64_t>());
    return true;
}

}  // namespace

ParsedRequest parse_request(const nlohmann::json& message) {
    ParsedRequest parsed;
    auto id = message.find("id");
    if (id != message.end() && id->is_number_unsigned()) parsed.id = id->get<std::uint64_t>();

    auto reject = [&](std::string why) {
        parsed.rejection = std::move(why);
        return parsed;
    };
    auto v = message.find("v");
    if (v == message.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != 1)
        return reject("unsupported message version");
    if (!parsed.id) return reject("missing id");

    Job job;
    job.id = *parsed.id;
    for (auto [key, field] : {std::pair{"url", &job.url}, std::pair{"format", &job.format},
                              std::pair{"out", &job.out_path}}) {
        auto it = message.find(key);
        if (it == message.end() || !it->is_string()) return reject(std::string("missing ") + key);
        *field = it->get<std::string>();
    }
    if (job.url.empty()) return reject("empty url");
    if (job.out_path.empty() || job.out_path.front() != '/')
        return reject("out must be an absolute path");
    if (job.format == "jpeg" || job.format == "webp")
        return reject("format " + job.format + " is not supported yet");
    if (job.format != "pdf" && job.format != "png") return reject("unknown format " + job.format);

    nlohmann::json options = nlohmann::json::object();
    if (auto it = message.find("options"); it != message.end()) {
        if (!it->is_object()) return reject("options must be a map");
        options = *it;
    }
    std::string why;
    if (!read_int(options, "viewport_width", 1, kMaxViewportSide, job.viewport_width, why) ||
        !read_int(options, "viewport_height", 1, kMaxViewportSide, job.viewport_height, why))
        return reject(why);
    if (auto it = options.find("timeout"); it != options.end()) {
        if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 3600)
            return reject("option timeout must be a number of seconds in (0, 3600]");
        job.timeout_seconds = it->get<double>();
    }
    if (auto it = options.find("landscape"); it != options.end()) {
        if (!it->is_boolean()) return reject("option landscape must be a boolean");
        job.landscape = it->get<bool>();
    }
    parsed.job = std::move(job);
    return parsed;
}

nlohmann::json result_message(std::uint64_t id, const Outcome& outcome) {
    nlohmann::json m = {{"v", 1}, {"id", id}, {"ok", outcome.ok}, {"render_ms", outcome.render_ms}};
    if (!outcome.ok) {
        m["error_code"] = outcome.error_code;
        m["error"] = outcome.error;
    }
    if (!outcome.title.empty()) m["title"] = outcome.title;
    // Not in the v1 table yet; readers ignore unknown keys.
    if (outcome.http_status > 0) m["http_status"] = outcome.http_status;
    return m;
}

}  // namespace enconvert::render_child

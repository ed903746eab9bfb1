#include "render_child/job.h"

#include "render_child/job_options.h"

namespace enconvert::render_child {

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
    if (auto it = message.find("job_id"); it != message.end() && it->is_string())
        job.job_id = it->get<std::string>();
    if (job.url.empty()) return reject("empty url");
    if (job.out_path.empty() || job.out_path.front() != '/')
        return reject("out must be an absolute path");
    if (job.format != "pdf" && job.format != "png" && job.format != "jpeg" && job.format != "webp")
        return reject("unknown format " + job.format);

    nlohmann::json options = nlohmann::json::object();
    if (auto it = message.find("options"); it != message.end() && !it->is_null()) {
        if (!it->is_object()) return reject("options must be a map");
        options = *it;
    }
    if (std::string why = read_options(options, job); !why.empty()) return reject(why);
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
    if (outcome.view >= 0) m["view"] = outcome.view;
    if (outcome.ok && outcome.size >= 0) m["size"] = outcome.size;
    return m;
}

}  // namespace enconvert::render_child

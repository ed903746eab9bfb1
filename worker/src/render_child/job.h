// One render request as the child understands it, parsed defensively from
// the wire map (schema/messages.md §2), and the result sent back.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace enconvert::render_child {

struct Job {
    std::uint64_t id = 0;
    std::string url;
    std::string format;  // "pdf" or "png" (others are rejected at parse time)
    std::string out_path;
    int viewport_width = 1920;
    int viewport_height = 1080;
    double timeout_seconds = 60;
    bool landscape = false;
};

struct Outcome {
    bool ok = false;
    std::string error_code;  // schema/messages.md
    std::string error;       // sentence for the user
    std::string title;
    int http_status = 0;  // main resource status, 0 when unknown
    double render_ms = 0;
};

struct ParsedRequest {
    std::optional<std::uint64_t> id;  // absent: nobody to answer
    std::optional<Job> job;           // absent: `rejection` says why
    std::string rejection;
};

ParsedRequest parse_request(const nlohmann::json& message);

nlohmann::json result_message(std::uint64_t id, const Outcome& outcome);

}  // namespace enconvert::render_child

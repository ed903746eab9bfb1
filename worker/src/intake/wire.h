// The module ↔ worker msgpack messages (schema/messages.md, version 1).
// Decoding is defensive: the module validates, but a bad frame must end in a
// structured error, never a crash.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/responses.h"
#include "db/job_types.h"
#include "options/option_limits.h"

namespace enconvert::intake {

// The module's enconvert_max_urls can only lower it (schema/options.json).
inline constexpr std::size_t kMaxUrls = options::url_max_items;
inline constexpr std::size_t kMaxUrlBytes = 2048;

struct ConvertRequest {
    std::string key;
    std::string base_url;
    std::string endpoint;
    std::vector<std::string> urls;
    bool batch = false;
    bool async = false;
    nlohmann::json options = nlohmann::json::object();
    std::optional<std::string> idempotency_key;
};

// The read-only requests about the key's account: op "status", "batch"
// (job_id: ours or the client's), "download" (object_key), "whoami" and
// "verify" (nothing else). `target` is the job id or the object key.
enum class View { status, batch, download, whoami, verify };

struct StatusRequest {
    std::string key;
    std::string base_url;
    std::string job_id;  // the target: a job id, or an object key for download
    View view = View::status;
};

struct HealthRequest {};

struct Request {
    std::uint64_t id = 0;
    std::variant<ConvertRequest, StatusRequest, HealthRequest> body;
};

struct DecodeError {
    std::optional<std::uint64_t> id;  // known when the frame got that far
    std::string detail;               // names the offending key
};

using DecodeResult = std::variant<Request, DecodeError>;

DecodeResult decode_request(std::string_view frame);

// `notice`: where the job's notifications go, as its 202 says it
// (api::notification_sentences); the module repeats it in the 202 it sends
// itself when its wait runs out. Left out when empty.
std::string encode_accepted(std::uint64_t id, const std::string& job_id,
                            const std::string& notice = {});
// Tells a module this worker is stopping (id 0, no request's): it sends
// nothing new here and keeps waiting for the answers of what it sent.
std::string encode_stopping();
std::string encode_final(std::uint64_t id, const api::HttpAnswer& answer,
                         const std::optional<std::string>& job_id = std::nullopt);

}  // namespace enconvert::intake

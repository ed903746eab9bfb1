#include "intake/wire.h"

#include <cmath>

#include "util/msgpack_depth.h"

namespace enconvert::intake {

using nlohmann::json;

namespace {

constexpr int kMaxOptionsDepth = 8;
// The whole message: the request map, options and their nesting, with room.
constexpr std::size_t kMaxMessageDepth = 32;

// msgpack writers may encode small non-negative numbers as signed types;
// both are accepted as "uint".
std::optional<std::uint64_t> as_uint(const json& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    }
    return std::nullopt;
}

// Thrown while decoding; turned into DecodeError at the function boundary.
struct WireError {
    std::string detail;
};

const json& required(const json& msg, const char* key) {
    auto it = msg.find(key);
    if (it == msg.end()) throw WireError{std::string("missing key '") + key + "'"};
    return *it;
}

std::string required_string(const json& msg, const char* key, std::size_t max_len = 4096) {
    const json& v = required(msg, key);
    if (!v.is_string()) throw WireError{std::string("key '") + key + "' must be a string"};
    std::string s = v.get<std::string>();
    if (s.size() > max_len) throw WireError{std::string("key '") + key + "' is too long"};
    return s;
}

bool required_bool(const json& msg, const char* key) {
    const json& v = required(msg, key);
    if (!v.is_boolean()) throw WireError{std::string("key '") + key + "' must be a boolean"};
    return v.get<bool>();
}

// A NUL character in any string or key of `v` (nesting already bounded by
// the msgpack reader).
bool holds_nul(const json& v) {
    if (v.is_string()) return v.get_ref<const std::string&>().find('\0') != std::string::npos;
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it)
            if (it.key().find('\0') != std::string::npos || holds_nul(it.value())) return true;
    } else if (v.is_array()) {
        for (const json& e : v)
            if (holds_nul(e)) return true;
    }
    return false;
}

// Options become jsonb: only JSON-representable values, bounded nesting.
void check_options(const json& v, int depth, const std::string& path) {
    if (depth > kMaxOptionsDepth) throw WireError{"options nested too deeply at '" + path + "'"};
    if (v.is_binary() || v.is_discarded()) {
        throw WireError{"options value '" + path + "' has an unsupported type"};
    }
    if (v.is_number_float() && !std::isfinite(v.get<double>())) {
        throw WireError{"options value '" + path + "' is not a finite number"};
    }
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it) {
            check_options(it.value(), depth + 1, path + "." + it.key());
        }
    } else if (v.is_array()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
            check_options(v[i], depth + 1, path + "[" + std::to_string(i) + "]");
        }
    }
}

// The scheme in any case (RFC 3986; the module accepts "HTTPS://", found by
// make fuzz, docs/fuzzing.md).
bool has_prefix_ignoring_case(const std::string& u, std::string_view prefix) {
    if (u.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = u[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

bool is_http_url(const std::string& u) {
    return has_prefix_ignoring_case(u, "http://") || has_prefix_ignoring_case(u, "https://");
}

ConvertRequest decode_convert(const json& msg) {
    ConvertRequest r;
    r.key = required_string(msg, "key", 512);
    r.base_url = required_string(msg, "base_url", 2048);
    r.endpoint = required_string(msg, "endpoint", 64);
    if (r.endpoint != "url-to-pdf" && r.endpoint != "url-to-screenshot" &&
        !db::is_website_endpoint(r.endpoint)) {
        throw WireError{
            "key 'endpoint' must be url-to-pdf, url-to-screenshot, website-to-pdf or "
            "website-to-screenshot"};
    }
    const json& urls = required(msg, "urls");
    if (!urls.is_array()) throw WireError{"key 'urls' must be an array"};
    if (urls.empty() || urls.size() > kMaxUrls) {
        throw WireError{"key 'urls' must hold 1.." + std::to_string(kMaxUrls) + " entries"};
    }
    for (std::size_t i = 0; i < urls.size(); ++i) {
        const std::string where = "urls[" + std::to_string(i) + "]";
        if (!urls[i].is_string()) throw WireError{where + " must be a string"};
        std::string u = urls[i].get<std::string>();
        if (u.size() > kMaxUrlBytes || !is_http_url(u)) {
            throw WireError{where + " must be an absolute http(s) URL of at most 2048 bytes"};
        }
        r.urls.push_back(std::move(u));
    }
    if (db::is_website_endpoint(r.endpoint) && urls.size() != 1) {
        throw WireError{"key 'urls' must hold the one start URL of a website capture"};
    }
    r.batch = required_bool(msg, "batch");
    r.async = required_bool(msg, "async");
    const json& options = required(msg, "options");
    if (!options.is_object()) throw WireError{"key 'options' must be a map"};
    check_options(options, 1, "options");
    r.options = options;
    if (auto it = msg.find("idempotency_key"); it != msg.end()) {
        if (!it->is_string() || it->get<std::string>().empty() ||
            it->get<std::string>().size() > 255) {
            throw WireError{"key 'idempotency_key' must be a string of 1..255 bytes"};
        }
        r.idempotency_key = it->get<std::string>();
    }
    return r;
}

std::optional<View> view_of(const std::string& op) {
    if (op == "status") return View::status;
    if (op == "batch") return View::batch;
    if (op == "download") return View::download;
    if (op == "whoami") return View::whoami;
    if (op == "verify") return View::verify;
    return std::nullopt;
}

StatusRequest decode_view(const json& msg, View view) {
    StatusRequest s;
    s.view = view;
    s.key = required_string(msg, "key", 512);
    s.base_url = required_string(msg, "base_url", 2048);
    if (view == View::download) {
        s.job_id = required_string(msg, "object_key", 1024);
    } else if (view == View::status || view == View::batch) {
        s.job_id = required_string(msg, "job_id", 128);
    }
    return s;
}

}  // namespace

DecodeResult decode_request(std::string_view frame) {
    // from_msgpack recurses per level: refuse deep nesting before it.
    switch (util::msgpack_shape(frame.begin(), frame.end(), kMaxMessageDepth)) {
        case util::MsgpackShape::ok:
            break;
        case util::MsgpackShape::invalid:
            return DecodeError{std::nullopt, "frame is not valid msgpack"};
        case util::MsgpackShape::too_deep:
            return DecodeError{std::nullopt, "message nested too deeply"};
    }
    json msg;
    try {
        msg = json::from_msgpack(frame.begin(), frame.end());
    } catch (const json::exception&) {
        return DecodeError{std::nullopt, "frame is not valid msgpack"};
    }
    if (!msg.is_object()) return DecodeError{std::nullopt, "message is not a map"};

    std::optional<std::uint64_t> id;
    if (auto it = msg.find("id"); it != msg.end()) id = as_uint(*it);
    try {
        if (!id) throw WireError{"key 'id' must be an unsigned integer"};
        // msgpack strings are bytes; the worker stores and hashes them as
        // JSON, whose dump() throws on invalid UTF-8 (found by make fuzz,
        // docs/fuzzing.md): refused here as a bad message, not a 500 later.
        try {
            (void)msg.dump();
        } catch (const json::type_error&) {
            throw WireError{"message holds a string that is not valid UTF-8"};
        }
        // PostgreSQL's text and jsonb refuse NUL: storing would fail (a
        // 500, and a group commit's every job sent through its own
        // transaction) rather than answer a bad message.
        if (holds_nul(msg)) throw WireError{"message holds a string with a NUL character"};
        const json& v = required(msg, "v");
        if (as_uint(v) != std::optional<std::uint64_t>(1)) {
            throw WireError{"unsupported message version"};
        }
        const std::string op = required_string(msg, "op", 32);
        Request req;
        req.id = *id;
        if (op == "convert") {
            req.body = decode_convert(msg);
        } else if (auto view = view_of(op)) {
            req.body = decode_view(msg, *view);
        } else if (op == "health") {
            req.body = HealthRequest{};
        } else {
            throw WireError{"unknown op '" + op.substr(0, 32) + "'"};
        }
        return req;
    } catch (const WireError& e) {
        return DecodeError{id, e.detail};
    } catch (const json::exception&) {
        return DecodeError{id, "malformed message"};
    }
}

std::string encode_accepted(std::uint64_t id, const std::string& job_id,
                            const std::string& notice) {
    json msg{{"v", 1}, {"id", id}, {"kind", "accepted"}, {"job_id", job_id}};
    if (!notice.empty()) msg["notice"] = notice;
    const std::vector<std::uint8_t> bytes = json::to_msgpack(msg);
    return std::string(bytes.begin(), bytes.end());
}

std::string encode_stopping() {
    const json msg{{"v", 1}, {"id", 0}, {"kind", "stopping"}};
    const std::vector<std::uint8_t> bytes = json::to_msgpack(msg);
    return std::string(bytes.begin(), bytes.end());
}

std::string encode_final(std::uint64_t id, const api::HttpAnswer& answer,
                         const std::optional<std::string>& job_id) {
    json msg{{"v", 1},
             {"id", id},
             {"kind", "final"},
             {"status", answer.status},
             {"content_type", answer.content_type}};
    if (job_id) msg["job_id"] = *job_id;
    if (!answer.headers.empty()) {
        json headers = json::array();
        for (const auto& [name, value] : answer.headers)
            headers.push_back(json::array({name, value}));
        msg["headers"] = std::move(headers);
    }
    if (answer.cache) {
        json links = json::array();
        for (const auto& l : answer.cache->links)
            links.push_back(json::array({l.offset, l.prefix_length, l.length, l.key_length}));
        msg["cache"] = json{{"until", answer.cache->until},
                            {"link_ttl", answer.cache->link_ttl},
                            {"links", std::move(links)}};
    }
    if (answer.internal_redirect) {
        msg["internal_redirect"] = *answer.internal_redirect;
    } else {
        msg["body"] =
            json::binary(std::vector<std::uint8_t>(answer.body.begin(), answer.body.end()));
    }
    const std::vector<std::uint8_t> bytes = json::to_msgpack(msg);
    return std::string(bytes.begin(), bytes.end());
}

}  // namespace enconvert::intake

#include "log/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "curl/curl_handles.h"

namespace enconvert::log {

namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::info)};
std::atomic<int> g_output_fd{STDERR_FILENO};
// Written once before threads start; read-only afterwards.
std::string g_process = "worker";

std::string utc_timestamp() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t secs = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[40];
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
    return stamp;
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
    if (name == "debug") return Level::debug;
    if (name == "info") return Level::info;
    if (name == "warning" || name == "warn") return Level::warning;
    if (name == "error") return Level::error;
    return std::nullopt;
}

std::string_view level_name(Level level) {
    switch (level) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warning:
            return "warning";
        case Level::error:
            return "error";
    }
    return "info";
}

void set_min_level(Level level) {
    g_min_level = static_cast<int>(level);
}

void set_process(std::string_view name) {
    g_process = std::string(name);
}

void set_min_level_from_env() {
    const char* value = std::getenv(kLevelEnv);
    if (!value) return;
    if (auto level = parse_level(value)) set_min_level(*level);
}

std::string format_line(Level level, std::string_view process, std::string_view component,
                        std::string_view message, Fields fields) {
    nlohmann::ordered_json line;
    line["ts"] = utc_timestamp();
    line["level"] = level_name(level);
    line["process"] = process;
    line["component"] = component;
    line["msg"] = message;
    for (const auto& [key, value] : fields) {
        // The fixed keys stay what they say.
        if (line.contains(key) || value.is_null()) continue;
        line[key] = value;
    }
    // Page-supplied text may not be UTF-8: replace, never throw.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void set_output_fd(int fd) {
    g_output_fd.store(fd, std::memory_order_relaxed);
}

void write(Level level, std::string_view component, std::string_view message, Fields fields) {
    if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
    std::string line;
    try {
        line = format_line(level, g_process, component, message, fields);
    } catch (const std::exception&) {
        return;  // logging must never take the caller down
    }
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(g_output_fd.load(std::memory_order_relaxed), p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

std::string redact_url(std::string_view url) {
    curl::CurlUrl u(curl_url());
    if (!u) return "-";
    const std::string text(url);
    if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) return "-";
    for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS, CURLUPART_QUERY,
                           CURLUPART_FRAGMENT})
        curl_url_set(u.get(), part, nullptr, 0);
    char* raw = nullptr;
    if (curl_url_get(u.get(), CURLUPART_URL, &raw, 0) != CURLUE_OK) return "-";
    curl::CurlString out(raw);
    return out.get();
}

}  // namespace enconvert::log

// The one logger of the worker and its renderer children: levelled, one JSON
// object per line on stderr, so journald, `jq` and log shippers read it as is.
// Every line names its process and component; lines about a job carry its
// `job_id` (and `task_id` where there is one) as fields, never inside the
// message text, so `jq 'select(.job_id == "…")'` follows one job's life
// across the worker and the renderer that drew it.
//
// Never pass secrets (API keys, the signing secret, credentials in a URL):
// log a URL through redact_url().
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace enconvert::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };

// "debug", "info", "warning" (or "warn"), "error"; nullopt otherwise.
std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

// Process-wide settings, set once at start-up before threads run.
void set_min_level(Level level);
void set_process(std::string_view name);  // "worker" or "render"
// The level children inherit: ENCONVERT_LOG_LEVEL in their environment.
inline constexpr const char* kLevelEnv = "ENCONVERT_LOG_LEVEL";
// Reads kLevelEnv (a child's start-up); unknown or unset: info.
void set_min_level_from_env();
// Where lines go: stderr unless a renderer child moves its own lines to a
// copy of it (render_child/foreign_output.h).
void set_output_fd(int fd);

using Fields = std::initializer_list<std::pair<const char*, nlohmann::json>>;

// The whole line, newline included (without writing it): tests use it.
std::string format_line(Level level, std::string_view process, std::string_view component,
                        std::string_view message, Fields fields);

// Writes one line with a single write(2) call, so lines of different
// threads and processes sharing stderr never interleave.
void write(Level level, std::string_view component, std::string_view message, Fields fields = {});

// scheme://host[:port]/path of `url`: user name, password, query and
// fragment removed (they may hold credentials or tokens). Not a URL: "-".
std::string redact_url(std::string_view url);

// A component's logger: `constexpr log::Logger kLog{"scheduler"};`
class Logger {
  public:
    constexpr explicit Logger(std::string_view component) : component_(component) {}
    void debug(std::string_view m, Fields f = {}) const { write(Level::debug, component_, m, f); }
    void info(std::string_view m, Fields f = {}) const { write(Level::info, component_, m, f); }
    void warning(std::string_view m, Fields f = {}) const {
        write(Level::warning, component_, m, f);
    }
    void error(std::string_view m, Fields f = {}) const { write(Level::error, component_, m, f); }

  private:
    std::string_view component_;
};

}  // namespace enconvert::log

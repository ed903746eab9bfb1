#include "db/connection_defaults.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <utility>

namespace enconvert::db {

namespace {

struct OptionsDeleter {
    void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

// Seconds, except tcp_user_timeout (ms). Keepalives notice a silent peer
// within 30 + 3 x 10 s; tcp_user_timeout fails a write nobody acknowledges
// within 30 s.
constexpr std::pair<const char*, const char*> kDefaults[] = {
    {"connect_timeout", "10"}, {"keepalives_idle", "30"},     {"keepalives_interval", "10"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "30000"},
};

// A conninfo value, quoted as libpq reads it back.
std::string quoted(const char* value) {
    std::string out = "'";
    for (const char* p = value; *p != '\0'; ++p) {
        if (*p == '\'' || *p == '\\') out += '\\';
        out += *p;
    }
    return out + "'";
}

}  // namespace

std::string with_connection_defaults(const std::string& url, const std::string& component) {
    char* error = nullptr;
    const std::unique_ptr<PQconninfoOption, OptionsDeleter> options(
        PQconninfoParse(url.c_str(), &error));
    if (!options) {
        PQfreemem(error);
        return url;
    }
    // A service file (PGSERVICEFILE) may set these for the service named;
    // an explicit value here would override it.
    bool service = std::getenv("PGSERVICE") != nullptr;
    for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
        if (std::string(o->keyword) == "service" && o->val != nullptr) service = true;
    }
    const std::string name = "enconvert-" + component;
    std::string out;
    for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
        const char* value = o->val;
        // Where the operator set it in the environment (PGCONNECT_TIMEOUT
        // and the like), libpq reads that value itself.
        const bool from_env = o->envvar != nullptr && std::getenv(o->envvar) != nullptr;
        if (value == nullptr && !service && !from_env) {
            for (const auto& [key, fallback] : kDefaults) {
                if (std::string(o->keyword) == key) value = fallback;
            }
        }
        if (value == nullptr && !component.empty() &&
            std::string(o->keyword) == "fallback_application_name")
            value = name.c_str();
        if (value == nullptr) continue;
        if (!out.empty()) out += ' ';
        out += std::string(o->keyword) + "=" + quoted(value);
    }
    return out;
}

}  // namespace enconvert::db

#include "util/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace enconvert::util {

void log_event(std::string_view component, std::string_view message) {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const std::time_t secs = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    // Build the whole line first and write it with one call so lines from
    // different threads never interleave.
    std::string line;
    line.reserve(64 + message.size());
    line += stamp;
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(millis));
    line += ms;
    line += " [";
    line += component;
    line += "] ";
    line += message;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace enconvert::util

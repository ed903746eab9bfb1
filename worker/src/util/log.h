// One line per event on stderr, prefixed with a UTC timestamp and the
// component name. Safe to call from any thread (each line is written whole).
#pragma once

#include <string_view>

namespace enconvert::util {

void log_event(std::string_view component, std::string_view message);

}  // namespace enconvert::util

// The web_process_sandbox setting, shared by the worker's configuration
// (checked at start-up) and the renderer child, which gets it as
// --web-sandbox (render_child/web_sandbox.h says what each mode does).
#pragma once

#include <optional>
#include <string_view>

namespace enconvert::render {

enum class SandboxMode {
    on,         // sandboxed, or the renderer refuses to start
    off,        // never
    automatic,  // sandboxed where bubblewrap can run, else not (a warning)
};

// "on", "off", "auto"; nullopt for anything else.
inline std::optional<SandboxMode> parse_sandbox_mode(std::string_view text) {
    if (text == "on") return SandboxMode::on;
    if (text == "off") return SandboxMode::off;
    if (text == "auto") return SandboxMode::automatic;
    return std::nullopt;
}

}  // namespace enconvert::render

// The environment a renderer child starts with. A page that breaks out of
// the browser engine runs with its web process's environment, which is
// the renderer's: the worker's own (S3 keys from an EnvironmentFile,
// PGPASSWORD, whatever an operator exported) must not reach it, so only
// the variables the renderer, GLib/GTK/WebKit, fontconfig, the locale and
// the sanitizers read are passed on (docs/security.md, "Web process
// sandbox").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace enconvert::render {

using Environment = std::vector<std::pair<std::string, std::string>>;

// Whether a variable of the worker's environment is passed to renderers.
bool passes_to_renderer(std::string_view name);

// `parent` (an environ-style, null-terminated array of NAME=value) reduced
// to what passes_to_renderer() lets through, then `own` (the settings the
// pool gives each child), which wins over an inherited value of that name.
Environment renderer_environment(const char* const* parent, const Environment& own);

}  // namespace enconvert::render

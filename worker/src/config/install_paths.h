// Where an installed enconvert finds its other parts, relative to the
// running enconvert-worker binary (<prefix>/bin), so a package installed
// under /usr and a `cmake --install --prefix /opt/x` both work unchanged.
// Never the build tree: a development stack names its paths in the config
// (renderer_binary, schema_dir).
#pragma once

#include <string>

namespace enconvert::config {

// <prefix>/libexec/enconvert/enconvert-render (the install rules' libexec)
std::string installed_renderer_binary();

// <prefix>/share/enconvert/schema/migrations (the install rules' datadir)
std::string installed_schema_dir();

}  // namespace enconvert::config

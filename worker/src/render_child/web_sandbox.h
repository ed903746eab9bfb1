// WebKit's sandbox for its web processes: each page's process runs under
// bubblewrap in its own mount, PID, network and UTS namespaces (and its
// own user namespace, without capabilities, when the worker is not root),
// sees /usr and /etc read-only and no network but WebKit's own IPC. A
// hostile page that found a hole in the engine would find itself there,
// not in the renderer child's view of the host (the storage, /run's
// sockets). /etc stays readable, so the service's secrets are kept where
// the worker's user cannot read them there (docs/security.md, "Web process
// sandbox"). Bubblewrap needs user namespaces as a non-root user, which
// some containers forbid.
#pragma once

#include <string>

#include "render/web_sandbox_mode.h"

namespace enconvert::render_child {

using render::SandboxMode;

// The bubblewrap WebKit runs (Debian's build: BWRAP_EXECUTABLE).
inline constexpr const char* kBubblewrap = "/usr/bin/bwrap";

// Why `bwrap` cannot make the namespaces WebKit asks for on this host (it
// is missing, or user namespaces are forbidden), or empty: it can. Runs it
// once (a few milliseconds).
std::string sandbox_unavailable(const std::string& bwrap = kBubblewrap);

struct SandboxChoice {
    bool enabled = false;
    std::string warning;  // automatic without the sandbox: why
    std::string error;    // on without the sandbox: the renderer must not start
};

// What the renderer does in `mode` when the probe said `unavailable`.
SandboxChoice choose_sandbox(SandboxMode mode, const std::string& unavailable);

}  // namespace enconvert::render_child

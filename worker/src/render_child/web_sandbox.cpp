#include "render_child/web_sandbox.h"

#include <glib.h>

#include "render_child/glib_ptr.h"

namespace enconvert::render_child {

std::string sandbox_unavailable(const std::string& bwrap) {
    // The namespaces WebKit's launcher unshares (--unshare-all: user where
    // possible, PID, IPC, UTS, network, cgroup where possible).
    const gchar* argv[] = {bwrap.c_str(), "--unshare-all", "--ro-bind", "/",    "/",    "--proc",
                           "/proc",       "--dev",         "/dev",      "true", nullptr};
    gchar* out = nullptr;
    gchar* err = nullptr;
    gint status = 0;
    GError* raw = nullptr;
    const gboolean ran = g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr, G_SPAWN_DEFAULT,
                                      nullptr, nullptr, &out, &err, &status, &raw);
    GCharPtr out_owned(out), err_owned(err);
    GErrorPtr error(raw);
    if (!ran) return bwrap + ": " + error->message;
    if (g_spawn_check_wait_status(status, nullptr)) return {};
    std::string why = err_owned && *err_owned.get() ? err_owned.get() : "failed";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return bwrap + ": " + why;
}

SandboxChoice choose_sandbox(SandboxMode mode, const std::string& unavailable) {
    SandboxChoice choice;
    if (mode == SandboxMode::off) return choice;
    if (unavailable.empty()) {
        choice.enabled = true;
    } else if (mode == SandboxMode::on) {
        choice.error =
            "web_process_sandbox is on but bubblewrap cannot run here (" + unavailable + ")";
    } else {
        choice.warning = "web processes run without their sandbox: bubblewrap cannot run here (" +
                         unavailable + "); web_process_sandbox = off silences this";
    }
    return choice;
}

}  // namespace enconvert::render_child

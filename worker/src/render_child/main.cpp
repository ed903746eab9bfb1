// enconvert-render: renders pages with WebKitGTK for the worker. Requests
// arrive as frames on stdin, results leave as frames on stdout
// (schema/messages.md §2); stderr is the log.
#include <gdk/gdkx.h>
#include <gtk/gtk.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "log/log.h"
#include "net/address_policy.h"
#include "render/x_authority.h"
#include "render_child/binary_dir.h"
#include "render_child/channel.h"
#include "render_child/file_printer.h"
#include "render_child/font_config.h"
#include "render_child/foreign_output.h"
#include "render_child/gate/outbound_gate.h"
#include "render_child/glib_ptr.h"
#include "render_child/oom_priority.h"
#include "render_child/pdf_probe.h"
#include "render_child/renderer.h"
#include "render_child/untrusted_display.h"
#include "render_child/web_sandbox.h"
#include "render_child/worker_pipes.h"

namespace {

constexpr enconvert::log::Logger kLog{"main"};
constexpr int kMaxViews = 64;

// GLib's structured log writer: each message of GLib, GTK or WebKit in this
// process becomes one line of ours, debug messages only when asked for.
GLogWriterOutput glib_log_writer(GLogLevelFlags flags, const GLogField* fields, gsize n_fields,
                                 gpointer) {
    using enconvert::log::Level;
    Level level = Level::info;
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        level = Level::error;
    else if (flags & G_LOG_LEVEL_WARNING)
        level = Level::warning;
    else if (flags & G_LOG_LEVEL_DEBUG)
        level = Level::debug;
    std::string domain = "glib", message;
    for (gsize i = 0; i < n_fields; ++i) {
        if (fields[i].length >= 0) continue;  // binary field: not text
        const char* value = static_cast<const char*>(fields[i].value);
        if (std::strcmp(fields[i].key, "GLIB_DOMAIN") == 0) domain = value;
        if (std::strcmp(fields[i].key, "MESSAGE") == 0) message = value;
    }
    enconvert::log::write(level, domain, message);
    return G_LOG_WRITER_HANDLED;
}
constexpr long kMaxMemoryLimitMb = 1 << 20;
constexpr long kMaxFinishLimitMs = 3600L * 1000;

struct Arguments {
    int views = 2;
    enconvert::render_child::ViewLimits limits;
    long finish_limit_ms = 60 * 1000;      // Renderer's finish_limit
    enconvert::net::AddressPolicy policy;  // --allowed-networks: exempt from the deny list
    enconvert::render::SandboxMode sandbox = enconvert::render::SandboxMode::automatic;
    // --web-xauthority-dir: where the web processes' X cookie is written
    // (the worker's Xvfb's cookie directory, removed with it even if this
    // renderer is killed). Empty: a directory of the renderer's own.
    std::string web_xauthority_dir;
};

// Decides once whether the views' web processes run in WebKit's sandbox
// (web_sandbox.h) and what they may read there besides the system: this
// binary's directory (the web process extension, fonts.conf) and the font
// configuration's. False: the renderer must not start.
bool use_web_sandbox(enconvert::render::SandboxMode mode, const std::string& font_config,
                     enconvert::render_child::ViewLimits& limits) {
    using namespace enconvert::render_child;
    const SandboxChoice choice =
        choose_sandbox(mode, mode == SandboxMode::off ? std::string() : sandbox_unavailable());
    if (!choice.error.empty()) {
        kLog.error(choice.error);
        return false;
    }
    if (!choice.warning.empty()) kLog.warning(choice.warning);
    limits.sandbox = choice.enabled;
    if (!choice.enabled) return true;
    if (std::string dir = binary_dir(); !dir.empty())
        limits.sandbox_read_paths.push_back(std::move(dir));
    if (!font_config.empty()) {
        GCharPtr dir(g_path_get_dirname(font_config.c_str()));
        limits.sandbox_read_paths.emplace_back(dir.get());
    }
    return true;
}

// The web processes' X cookie: untrusted (render_child/untrusted_display.h).
// Without a file the display could not make one: the web processes then
// share the renderer's own cookie, as WebKit would have it.
enconvert::render_child::UntrustedAuthority hand_web_processes_an_untrusted_cookie(
    const std::string& directory, enconvert::render_child::ViewLimits& limits) {
    GdkDisplay* display = gdk_display_get_default();
    if (!GDK_IS_X11_DISPLAY(display)) return {};
    // A refusal comes as an X error: trapped, not GDK's fatal handler.
    gdk_x11_display_error_trap_push(display);
    enconvert::render_child::UntrustedAuthority untrusted =
        enconvert::render_child::make_untrusted_authority(GDK_DISPLAY_XDISPLAY(display), directory);
    if (const int code = gdk_x11_display_error_trap_pop(display); code != 0 && untrusted.file) {
        untrusted = {};
        untrusted.error = "X error " + std::to_string(code);
    }
    if (!untrusted.file) {
        kLog.warning("web processes join the X display as trusted clients",
                     {{"reason", untrusted.error}});
        return {};
    }
    setenv("XAUTHORITY", untrusted.file->path().c_str(), 1);
    if (limits.sandbox) limits.sandbox_read_paths.push_back(untrusted.file->directory());
    return untrusted;
}

std::optional<Arguments> parse_arguments(int argc, char** argv) {
    Arguments parsed;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        std::string name, value;
        if ((arg == "--views" || arg == "--memory-limit-mb" || arg == "--max-download-mb" ||
             arg == "--finish-limit-ms" || arg == "--allowed-networks" || arg == "--web-sandbox" ||
             arg == "--web-xauthority-dir") &&
            i + 1 < argc) {
            name = arg;
            value = argv[++i];
        } else if (auto eq = arg.find('='); eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else {
            return std::nullopt;
        }
        if (name == "--allowed-networks") {
            try {
                parsed.policy = enconvert::net::AddressPolicy::from_config(value);
            } catch (const std::invalid_argument&) {
                return std::nullopt;
            }
            continue;
        }
        if (name == "--web-xauthority-dir") {
            if (value.empty() || value[0] != '/') return std::nullopt;
            parsed.web_xauthority_dir = value;
            continue;
        }
        if (name == "--web-sandbox") {
            const auto mode = enconvert::render::parse_sandbox_mode(value);
            if (!mode) return std::nullopt;
            parsed.sandbox = *mode;
            continue;
        }
        char* end = nullptr;
        const long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0') return std::nullopt;
        if (name == "--views" && n >= 1 && n <= kMaxViews)
            parsed.views = static_cast<int>(n);
        else if (name == "--memory-limit-mb" && n >= 0 && n <= kMaxMemoryLimitMb)
            parsed.limits.memory_limit_mb = static_cast<unsigned>(n);
        else if (name == "--max-download-mb" && n >= 1 && n <= kMaxMemoryLimitMb)
            parsed.limits.max_download_mb = static_cast<unsigned>(n);
        else if (name == "--finish-limit-ms" && n >= 1 && n <= kMaxFinishLimitMs)
            parsed.finish_limit_ms = n;
        else
            return std::nullopt;
    }
    return parsed;
}

int run(int argc, char** argv) {
    enconvert::log::set_process("render");
    enconvert::log::set_min_level_from_env();
    // GLib, GTK and WebKit messages of this process go through our logger
    // too, so the stream stays one JSON object per line.
    g_log_set_writer_func(glib_log_writer, nullptr, nullptr);
    std::optional<Arguments> args = parse_arguments(argc, argv);
    if (!args) {
        std::fprintf(stderr,
                     "usage: enconvert-render [--views N (1..%d)] [--memory-limit-mb MB (0: "
                     "WebKit's default)] [--max-download-mb MB] [--finish-limit-ms MS (1..%ld)] "
                     "[--allowed-networks CIDR,...] [--web-sandbox on|off|auto] "
                     "[--web-xauthority-dir DIR]\n",
                     kMaxViews, kMaxFinishLimitMs);
        return 2;
    }
    // Before any process is spawned (the sandbox probe, GTK, WebKit).
    if (!enconvert::render_child::capture_foreign_output())
        kLog.warning("other processes' stderr goes to the log as it is");
    const std::optional<enconvert::render_child::WorkerPipes> pipes =
        enconvert::render_child::take_worker_pipes();
    if (!pipes) {
        kLog.error("cannot move the worker's pipes off stdin and stdout");
        return 1;
    }
    // Without these, pages print blank under Xvfb (no GL, no DMA-BUF).
    setenv("WEBKIT_DISABLE_COMPOSITING_MODE", "1", 1);
    setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "1", 1);
    // No accessibility bus: an empty address keeps every web process from
    // trying one (in the sandbox each logged "Can't connect to a11y bus").
    setenv("WEBKIT_A11Y_BUS_ADDRESS", "", 1);
    // Every connection a view's pages hold open through the gate costs two
    // descriptors here (up to GateLimits' 256 a view), besides the views'
    // own files and pipes: the usual soft limit of 1024 is raised as far
    // as the hard limit lets, to 65536 at most.
    if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 65536) {
        files.rlim_cur = std::min<rlim_t>(files.rlim_max, 65536);
        setrlimit(RLIMIT_NOFILE, &files);
    }
    // Before any web process is started: they inherit it.
    if (!enconvert::render_child::raise_oom_score_adj(
            enconvert::render_child::kRendererOomScoreAdj)) {
        kLog.warning(
            "could not raise oom_score_adj: under memory pressure the kernel may kill "
            "another process before this renderer");
    }
    const std::string font_config = enconvert::render_child::use_shipped_font_config();
    kLog.debug("font configuration",
               {{"file", font_config.empty() ? "(system default)" : font_config}});
    if (!use_web_sandbox(args->sandbox, font_config, args->limits)) return 1;
    if (!gtk_init_check(&argc, &argv)) {
        kLog.error("cannot open the display",
                   {{"display", getenv("DISPLAY") ? getenv("DISPLAY") : "(unset)"}});
        return 1;
    }
    // Before the first view starts a web process: they read XAUTHORITY
    // when they start.
    const enconvert::render_child::UntrustedAuthority web_authority =
        hand_web_processes_an_untrusted_cookie(args->web_xauthority_dir, args->limits);
    std::optional<std::string> printer = enconvert::render_child::find_file_printer();
    if (!printer) {
        kLog.error("GTK's print-to-file printer is not available");
        return 1;
    }

    // Every connection of every view goes through the gate (docs/api.md
    // "Outbound safety"); it lives as long as the views.
    enconvert::render_child::OutboundGate gate(
        std::move(args->policy),
        {.views = enconvert::render_child::Renderer::view_slots(args->views)});
    // WebKit's network process resolves the names a page lists in
    // <link rel=dns-prefetch> itself, outside the gate (a page chose what
    // the host's DNS server is asked), unless its default proxy resolver
    // (GIO's, which reads these) names a proxy. The views' own proxy
    // settings send every connection to the gate whatever these say; they
    // name the gate all the same, so anything that used them would still
    // go through it. Set before the first view starts WebKit's processes,
    // which inherit them; only the gate's thread runs yet, in its poll.
    setenv("http_proxy", gate.proxy_uri(0).c_str(), 1);
    setenv("https_proxy", gate.proxy_uri(0).c_str(), 1);
    // GIO's libproxy module reads them; a GNOME desktop or a portal in the
    // environment the worker was started from would pick a module that
    // ignores them (and says "direct").
    setenv("GIO_USE_PROXY_RESOLVER", "libproxy", 1);
    unsetenv("XDG_CURRENT_DESKTOP");
    unsetenv("GTK_USE_PORTAL");
    GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
    std::optional<enconvert::render_child::Renderer> renderer;
    enconvert::render_child::Channel channel(
        *pipes, [&](const nlohmann::json& message) { renderer->on_message(message); },
        [&] { g_main_loop_quit(loop); });  // the worker closed our pipe: shut down
    renderer.emplace(args->views, *printer, args->limits,
                     std::chrono::milliseconds(args->finish_limit_ms), gate, channel, [&] {
                         channel.send({{"v", 1}, {"ready", true}});
                     });
    g_main_loop_run(loop);
    renderer.reset();
    g_main_loop_unref(loop);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // The same binary counts a served PDF's pages for a renderer, in a
    // process of its own (pdf_probe.h): nothing else is set up for that.
    if (argc == 3 && std::strcmp(argv[1], enconvert::render_child::kPageCountArgument) == 0)
        return enconvert::render_child::run_page_count_probe(argv[2]);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        kLog.error("fatal", {{"error", e.what()}});
        return 1;
    }
}

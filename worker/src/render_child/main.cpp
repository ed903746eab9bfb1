// enconvert-render: renders pages with WebKitGTK for the worker. Requests
// arrive as frames on stdin, results leave as frames on stdout
// (schema/messages.md §2); stderr is the log.
#include <gtk/gtk.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "render_child/channel.h"
#include "render_child/file_printer.h"
#include "render_child/renderer.h"

namespace {

constexpr int kMaxViews = 64;

std::optional<int> parse_views(int argc, char** argv) {
    int views = 2;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        std::string value;
        if (arg == "--views" && i + 1 < argc)
            value = argv[++i];
        else if (arg.rfind("--views=", 0) == 0)
            value = arg.substr(8);
        else
            return std::nullopt;
        char* end = nullptr;
        long n = std::strtol(value.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > kMaxViews) return std::nullopt;
        views = static_cast<int>(n);
    }
    return views;
}

int run(int argc, char** argv) {
    std::optional<int> views = parse_views(argc, argv);
    if (!views) {
        std::fprintf(stderr, "usage: enconvert-render [--views N]  (1..%d)\n", kMaxViews);
        return 2;
    }
    // Without these, pages print blank under Xvfb (no GL, no DMA-BUF).
    setenv("WEBKIT_DISABLE_COMPOSITING_MODE", "1", 1);
    setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "1", 1);
    if (!gtk_init_check(&argc, &argv)) {
        std::fprintf(stderr, "enconvert-render: cannot open display %s\n",
                     getenv("DISPLAY") ? getenv("DISPLAY") : "(unset)");
        return 1;
    }
    std::optional<std::string> printer = enconvert::render_child::find_file_printer();
    if (!printer) {
        std::fprintf(stderr, "enconvert-render: GTK's print-to-file printer is not available\n");
        return 1;
    }

    GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
    std::optional<enconvert::render_child::Renderer> renderer;
    enconvert::render_child::Channel channel(
        [&](const nlohmann::json& message) { renderer->on_message(message); },
        [&] { g_main_loop_quit(loop); });  // worker closed our stdin: shut down
    renderer.emplace(*views, *printer, channel, [&] { channel.send({{"v", 1}, {"ready", true}}); });
    g_main_loop_run(loop);
    renderer.reset();
    g_main_loop_unref(loop);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "enconvert-render: fatal: %s\n", e.what());
        return 1;
    }
}

// Supervises enconvert-render children and moves render requests/results
// between them and the scheduler. Owned and driven by one thread (the
// scheduler's event loop): no internal locking.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render/process_memory.h"

namespace enconvert::render {

struct RenderRequest {
    std::uint64_t id = 0;  // task id, echoed in the result
    std::string job_id;    // for the renderer's log lines
    std::string url;
    std::string format;                                 // "pdf", "png", "jpeg", "webp"
    std::string out_path;                               // absolute path the child writes
    nlohmann::json options = nlohmann::json::object();  // API body fields
    // Run with no other request on the same child: the request's earlier
    // attempt died with its renderer, and one of the pages running there
    // caused it. Alone, an innocent page completes and a guilty one fails
    // by itself.
    bool alone = false;
};

struct RenderResult {
    std::uint64_t id = 0;
    bool ok = false;
    std::string error_code;  // see schema/messages.md
    std::string error;       // sentence for the user
    std::string title;
    double render_ms = 0;
    int view = -1;  // which view of the child ran it, when it says
    // ok: the size the child wrote and synced (-1: it did not say).
    std::int64_t size = -1;
    // The child itself went away under this request (crashed, was killed,
    // hung on another request, broke its pipe): error_code
    // renderer_crashed. The page may be innocent; retrying it alone tells.
    bool renderer_lost = false;
    // The child was stopped by a signal from outside (error_code
    // renderer_stopped): not the page's doing, the render runs again.
    bool renderer_stopped = false;
};

class RendererPool {
  public:
    struct Options {
        std::string binary;   // path of enconvert-render
        std::string display;  // X display for the children, e.g. ":99"
        // The display's X authority file (the children's XAUTHORITY);
        // empty: whatever the worker's own environment says.
        std::string xauthority;
        // Where each child writes its web processes' untrusted X cookie
        // (render_child/untrusted_display.h): the worker's Xvfb's cookie
        // directory, removed with it. Empty: a directory of the child's own.
        std::string web_xauthority_dir;
        int processes = 1;          // number of children
        int views_per_process = 2;  // concurrent renders per child
        // Extra time over a request's own `timeout` option before the child
        // is considered hung, killed and restarted.
        std::chrono::seconds hang_grace{15};
        // Between tasks, a child whose memory (itself plus its WebKit
        // processes, PSS) exceeds this is retired: it takes no new work,
        // finishes what it has, and is replaced. 0: never.
        std::size_t memory_ceiling_mb = 1536;
        // How a child's memory is measured (KiB of its process tree);
        // tests count the calls.
        std::function<std::uint64_t(pid_t)> measure_memory_kib = process_tree_memory_kib;
        // A child is also retired after this many tasks. 0: never.
        int recycle_after = 200;
        // WebKit kills one web process above this during a task, which
        // then fails with error_code memory_limit. 0: memory_ceiling_mb.
        std::size_t web_process_memory_limit_mb = 0;
        // A URL that is itself a PDF, converted to PDF, is saved as it is
        // up to this size; above it the task fails with file_too_large (a
        // server streaming without end would fill the storage).
        std::size_t max_download_mb = 256;
        // A child whose PDF post-processing still runs this long after its
        // job was answered (deadline, cancel) takes it for stuck and exits;
        // its running tasks fail renderer_crashed and are queued again.
        std::chrono::milliseconds finish_limit{60 * 1000};
        // CIDRs exempt from the outbound deny list, as in the config's
        // allowed_networks; enforced by each child's outbound gate.
        std::string allowed_networks;
        // The children's log level (log::parse_level names).
        std::string log_level = "info";
        // WebKit's sandbox for the web processes: "on", "off", "auto"
        // (web_sandbox_mode.h; the child's --web-sandbox).
        std::string web_process_sandbox = "auto";
    };

    explicit RendererPool(Options options);
    ~RendererPool();
    RendererPool(const RendererPool&) = delete;
    RendererPool& operator=(const RendererPool&) = delete;

    // How many more requests can be submitted now (ready children only,
    // less the requests waiting for a child of their own).
    std::size_t free_slots() const;

    // Precondition: free_slots() > 0. A request with `alone` set waits
    // until a child is idle (the pool stops giving new work to the least
    // busy child until it is) and then runs there by itself.
    void submit(RenderRequest request);

    // Stops request `id`: a child running it is told to cancel it (its
    // result, error_code cancelled, comes through collect() as usual); one
    // still waiting here is answered cancelled at once. Unknown ids: no-op.
    void cancel(std::uint64_t id);

    // File descriptors to poll for readability (one per live child).
    std::vector<int> poll_fds() const;

    // Time until the nearest watchdog deadline (or a restart back-off) needs
    // collect() to run even with nothing readable; capped at 1 s.
    std::chrono::milliseconds next_timeout() const;

    // Reads every available result; detects crashed or hung children,
    // fails their in-flight requests and restarts them: a request past its
    // own deadline fails with timeout, every other one with
    // renderer_crashed and renderer_lost set. Never throws for a child's
    // misbehaviour.
    std::vector<RenderResult> collect();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace enconvert::render

#include "render/renderer_pool.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "render/child_process.h"
#include "render/frame.h"
#include "render/renderer_environment.h"

namespace enconvert::render {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// WebKit + GTK start in well under a second; allow for a loaded machine.
constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kFirstBackoff = milliseconds(500);
// Measuring a child's memory reads every process's /proc/<pid>/stat and the
// smaps_rollup of the child's tree: tens of milliseconds on the scheduler's
// thread, which held each result back by 60-80 ms when it ran after every
// task (bench/run.sh sync). Memory grows over many tasks: the first task of
// a child is measured, then at most one a while.
constexpr auto kMemoryCheckInterval = std::chrono::seconds(10);
constexpr auto kMaxBackoff = milliseconds(30'000);
// A child that stayed up this long earns a fresh back-off on its next crash.
constexpr auto kStableAfter = std::chrono::seconds(60);
constexpr auto kStopGrace = milliseconds(1000);
constexpr double kDefaultTimeoutSeconds = 60;

void log(log::Level level, int index, const std::string& what, nlohmann::json job_ids = nullptr) {
    log::write(level, "renderer_pool", what,
               {{"renderer", index}, {"job_ids", std::move(job_ids)}});
}

RenderResult failure(std::uint64_t id, std::string code, std::string message) {
    RenderResult r;
    r.id = id;
    r.error_code = std::move(code);
    r.error = std::move(message);
    return r;
}

double timeout_seconds(const nlohmann::json& options) {
    if (options.is_object()) {
        auto it = options.find("timeout");
        if (it != options.end() && it->is_number() && it->get<double>() > 0)
            return it->get<double>();
    }
    return kDefaultTimeoutSeconds;
}

// Reads a result frame defensively; nullopt when it is not one.
std::optional<RenderResult> parse_result(const nlohmann::json& m) {
    auto field = [&](const char* key) -> const nlohmann::json* {
        auto it = m.find(key);
        return it == m.end() ? nullptr : &*it;
    };
    const auto* id = field("id");
    const auto* ok = field("ok");
    if (!id || !id->is_number_unsigned() || !ok || !ok->is_boolean()) return std::nullopt;
    RenderResult r;
    r.id = id->get<std::uint64_t>();
    r.ok = ok->get<bool>();
    if (const auto* v = field("error_code"); v && v->is_string())
        r.error_code = v->get<std::string>();
    if (const auto* v = field("error"); v && v->is_string()) r.error = v->get<std::string>();
    if (const auto* v = field("title"); v && v->is_string()) r.title = v->get<std::string>();
    if (const auto* v = field("render_ms"); v && v->is_number()) r.render_ms = v->get<double>();
    if (const auto* v = field("view"); v && v->is_number_unsigned()) r.view = v->get<int>();
    if (const auto* v = field("size"); v && v->is_number_unsigned())
        r.size = v->get<std::int64_t>();
    if (!r.ok && r.error_code.empty()) {
        r.error_code = "load_failed";
        if (r.error.empty()) r.error = "Failed to render page";
    }
    return r;
}

// What the pool sets in every child's environment over the worker's own.
Environment own_environment(const RendererPool::Options& options) {
    Environment own{{"DISPLAY", options.display}, {log::kLevelEnv, options.log_level}};
    if (!options.xauthority.empty()) own.emplace_back("XAUTHORITY", options.xauthority);
    return own;
}

}  // namespace

struct RendererPool::Impl {
    struct InFlight {
        std::string out_path;
        std::string job_id;          // for the log
        Clock::time_point deadline;  // the request's own timeout + hang grace
    };
    // Retiring: takes no new work; replaced once its in-flight work is done.
    enum class State { Down, Starting, Ready, Retiring };
    struct Slot {
        int index = 0;
        State state = State::Down;
        std::unique_ptr<ChildProcess> process;
        FrameDecoder decoder;
        std::unordered_map<std::uint64_t, InFlight> in_flight;
        Clock::time_point started_at{};
        Clock::time_point restart_at{};
        milliseconds backoff = kFirstBackoff;
        int tasks_done = 0;                                  // since the child started
        std::optional<Clock::time_point> memory_checked_at;  // since the child started
        bool retiring_for_memory = false;                    // measured again once idle
        bool alone = false;                                  // running a request that must be alone
        bool draining = false;  // takes no new work: an alone request waits for it
        // New work may go here.
        bool open() const { return state == State::Ready && !alone && !draining; }
    };

    Options options;
    std::vector<Slot> slots;
    // Failures found outside collect() (e.g. in submit), reported by it.
    std::vector<RenderResult> deferred;
    // Submitted requests not yet sent to a child: those that must run alone
    // wait for an idle child; others only when a child went away between
    // free_slots() and submit().
    std::deque<RenderRequest> waiting;

    void spawn(Slot& slot);
    void send(Slot& slot, const RenderRequest& request);
    void dispatch();
    // Index of the child `request` can run on now; -1: none.
    int open_slot_for(const RenderRequest& request) const;
    // `stopped`: the child was stopped by a signal from outside (SIGTERM,
    // SIGINT, SIGHUP: a service manager stopping everything), not by its
    // pages: its renders are handed back without costing an attempt.
    void lose(Slot& slot, const std::string& why, std::vector<RenderResult>& out,
              const std::function<bool(const InFlight&)>& timed_out = {}, bool stopped = false);
    void service(Slot& slot, Clock::time_point now, std::vector<RenderResult>& out);
    // Reads and handles what the child has written; false (and `corrupt`
    // set) when its output is no longer frames.
    bool read_results(Slot& slot, std::vector<RenderResult>& out, std::string& corrupt);
    // Writing to the child failed: it is gone. What it wrote before it went
    // (a finished render's result) is read first, as for an exit, so that
    // work is not thrown away with the child.
    void lose_unwritable(Slot& slot, std::vector<RenderResult>& out);
    void handle_frame(Slot& slot, const nlohmann::json& message, std::vector<RenderResult>& out);
    void consider_retiring(Slot& slot);
    void replace_if_retired(Slot& slot);
};

void RendererPool::Impl::spawn(Slot& slot) {
    slot.decoder = FrameDecoder();
    slot.started_at = Clock::now();
    slot.tasks_done = 0;
    slot.memory_checked_at.reset();
    slot.retiring_for_memory = false;
    slot.alone = slot.draining = false;
    const std::size_t web_limit = options.web_process_memory_limit_mb
                                      ? options.web_process_memory_limit_mb
                                      : options.memory_ceiling_mb;
    std::vector<std::string> arguments{"--views",
                                       std::to_string(options.views_per_process),
                                       "--memory-limit-mb",
                                       std::to_string(web_limit),
                                       "--max-download-mb",
                                       std::to_string(options.max_download_mb),
                                       "--finish-limit-ms",
                                       std::to_string(options.finish_limit.count()),
                                       "--allowed-networks",
                                       options.allowed_networks,
                                       "--web-sandbox",
                                       options.web_process_sandbox};
    if (!options.web_xauthority_dir.empty()) {
        arguments.emplace_back("--web-xauthority-dir");
        arguments.push_back(options.web_xauthority_dir);
    }
    try {
        slot.process = std::make_unique<ChildProcess>(
            options.binary, std::move(arguments),
            // WebKit's own switches are set by the child itself (main.cpp).
            renderer_environment(environ, own_environment(options)));
        slot.state = State::Starting;
    } catch (const std::exception& e) {
        log(log::Level::error, slot.index,
            std::string("starting the renderer failed: ") + e.what());
        slot.process.reset();
        slot.state = State::Down;
        slot.restart_at = Clock::now() + slot.backoff;
        slot.backoff = std::min(slot.backoff * 2, kMaxBackoff);
    }
}

// The child is unusable: kill it, fail what it was doing, schedule a restart.
void RendererPool::Impl::lose(Slot& slot, const std::string& why, std::vector<RenderResult>& out,
                              const std::function<bool(const InFlight&)>& timed_out, bool stopped) {
    nlohmann::json job_ids = nlohmann::json::array();
    for (const auto& [id, request] : slot.in_flight) job_ids.push_back(request.job_id);
    log(log::Level::error, slot.index, why + "; restarting", job_ids);
    metrics::worker_metrics().renderer_restart("lost");
    slot.process.reset();  // SIGKILL + reap
    for (const auto& [id, request] : slot.in_flight) {
        // The child may have died mid-write: no partial file survives
        // (names as in render_child/view_slot, view_slot_output and
        // pdf/pdf_file's write_replacing, which rewrites the ".part";
        // WebKit downloads a served PDF into ".part.wkdownload" first).
        for (const char* suffix : {".part", ".part.rewrite", ".part.wkdownload", ".bands.pdf", ""})
            unlink((request.out_path + suffix).c_str());
        if (timed_out && timed_out(request)) {
            out.push_back(failure(id, "timeout", "Failed to render page: the renderer hung"));
        } else if (stopped) {
            out.push_back(failure(id, "renderer_stopped",
                                  "The render was interrupted: its renderer was stopped"));
            out.back().renderer_stopped = true;
        } else {
            out.push_back(
                failure(id, "renderer_crashed", "Failed to render page: the renderer crashed"));
            out.back().renderer_lost = true;
        }
    }
    slot.in_flight.clear();
    slot.alone = slot.draining = false;
    const auto now = Clock::now();
    if ((slot.state == State::Ready || slot.state == State::Retiring) &&
        now - slot.started_at >= kStableAfter)
        slot.backoff = kFirstBackoff;
    slot.state = State::Down;
    slot.restart_at = now + slot.backoff;
    slot.backoff = std::min(slot.backoff * 2, kMaxBackoff);
}

void RendererPool::Impl::handle_frame(Slot& slot, const nlohmann::json& message,
                                      std::vector<RenderResult>& out) {
    auto v = message.find("v");
    if (v == message.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != 1) {
        log(log::Level::warning, slot.index, "ignoring a frame with an unknown version");
        return;
    }
    if (auto ready = message.find("ready"); ready != message.end()) {
        if (ready->is_boolean() && ready->get<bool>() && slot.state == State::Starting) {
            slot.state = State::Ready;
        }
        return;
    }
    std::optional<RenderResult> result = parse_result(message);
    if (!result) {
        log(log::Level::warning, slot.index, "ignoring a malformed result frame");
        return;
    }
    auto it = slot.in_flight.find(result->id);
    if (it == slot.in_flight.end()) {
        log(log::Level::warning, slot.index,
            "ignoring a result for unknown task " + std::to_string(result->id));
        return;
    }
    slot.in_flight.erase(it);
    slot.alone = false;
    out.push_back(std::move(*result));
    ++slot.tasks_done;
    consider_retiring(slot);
}

// Between tasks: long-lived WebKit processes grow (caches, fragmentation,
// leaks); a fresh child is cheaper than finding out what holds the memory.
void RendererPool::Impl::consider_retiring(Slot& slot) {
    if (slot.state != State::Ready) return;
    std::string why;
    if (options.recycle_after > 0 && slot.tasks_done >= options.recycle_after) {
        why = "recycling after " + std::to_string(slot.tasks_done) + " tasks";
    } else if (options.memory_ceiling_mb > 0 &&
               (!slot.memory_checked_at ||
                Clock::now() - *slot.memory_checked_at >= kMemoryCheckInterval)) {
        slot.memory_checked_at = Clock::now();
        const std::uint64_t mib = options.measure_memory_kib(slot.process->pid()) / 1024;
        if (mib > options.memory_ceiling_mb)
            why = "recycling at " + std::to_string(mib) + " MB (ceiling " +
                  std::to_string(options.memory_ceiling_mb) + " MB)";
    }
    if (why.empty()) return;
    log(log::Level::info, slot.index, why);
    slot.retiring_for_memory =
        !(options.recycle_after > 0 && slot.tasks_done >= options.recycle_after);
    slot.state = State::Retiring;
}

// A retiring child with nothing left in flight: every answer is out and no
// file is being written, so it can go without failing anything.
// Memory is measured again first: a page still growing in another view
// when the child was measured (a runaway page that WebKit then killed at
// web_process_memory_limit_mb) no longer counts, and the child, its views
// warm, goes on.
void RendererPool::Impl::replace_if_retired(Slot& slot) {
    if (slot.state != State::Retiring || !slot.in_flight.empty()) return;
    if (slot.retiring_for_memory) {
        slot.retiring_for_memory = false;
        slot.memory_checked_at = Clock::now();
        const std::uint64_t mib = options.measure_memory_kib(slot.process->pid()) / 1024;
        if (mib <= options.memory_ceiling_mb) {
            log(log::Level::info, slot.index,
                "keeping the renderer: " + std::to_string(mib) + " MB once idle (ceiling " +
                    std::to_string(options.memory_ceiling_mb) + " MB)");
            slot.state = State::Ready;
            return;
        }
    }
    metrics::worker_metrics().renderer_restart("recycled");
    slot.process.reset();  // SIGKILL + reap; its WebKit processes follow it
    slot.backoff = kFirstBackoff;
    spawn(slot);
}

bool RendererPool::Impl::read_results(Slot& slot, std::vector<RenderResult>& out,
                                      std::string& corrupt) {
    for (;;) {
        try {
            auto message = slot.decoder.next();
            if (!message) return true;
            handle_frame(slot, *message, out);
        } catch (const MalformedFrame& e) {
            log(log::Level::warning, slot.index, e.what());
        } catch (const FrameError& e) {
            corrupt = e.what();
            return false;
        }
    }
}

void RendererPool::Impl::lose_unwritable(Slot& slot, std::vector<RenderResult>& out) {
    slot.process->read_available(slot.decoder);
    std::string corrupt;
    read_results(slot, out, corrupt);
    lose(slot, "renderer closed its input", out);
}

void RendererPool::Impl::service(Slot& slot, Clock::time_point now,
                                 std::vector<RenderResult>& out) {
    if (slot.state == State::Down) {
        if (now >= slot.restart_at) spawn(slot);
        return;
    }
    if (!slot.process->flush()) {
        lose_unwritable(slot, out);
        return;
    }
    const bool open = slot.process->read_available(slot.decoder);
    // Results that arrived before an exit still count.
    if (std::string corrupt; !read_results(slot, out, corrupt)) {
        lose(slot, "corrupt output: " + corrupt, out);
        return;
    }
    if (!open) {
        if (slot.process->stopped_by_signal()) {
            lose(slot, "renderer stopped by a signal", out, {}, true);
            return;
        }
        lose(slot,
             slot.state == State::Starting ? "renderer exited during start-up" : "renderer exited",
             out);
        return;
    }
    if (slot.state == State::Starting && now - slot.started_at > kStartTimeout) {
        lose(slot, "renderer did not become ready", out);
        return;
    }
    auto overdue = [now](const InFlight& r) { return r.deadline <= now; };
    if (std::any_of(slot.in_flight.begin(), slot.in_flight.end(),
                    [&](const auto& entry) { return overdue(entry.second); })) {
        lose(slot, "renderer hung", out, overdue);
        return;
    }
    replace_if_retired(slot);
}

RendererPool::RendererPool(Options options) : impl_(std::make_unique<Impl>()) {
    if (options.processes < 1 || options.views_per_process < 1)
        throw std::invalid_argument("RendererPool needs at least one process and one view");
    impl_->options = std::move(options);
    impl_->slots.resize(static_cast<std::size_t>(impl_->options.processes));
    for (std::size_t i = 0; i < impl_->slots.size(); ++i) {
        impl_->slots[i].index = static_cast<int>(i);
        impl_->spawn(impl_->slots[i]);
    }
    // Wait for every child's ready frame. Children that fail keep being
    // restarted by collect(); only a pool with no child at all is an error.
    const auto deadline = Clock::now() + kStartTimeout;
    auto all_ready = [&] {
        return std::all_of(impl_->slots.begin(), impl_->slots.end(),
                           [](const Impl::Slot& s) { return s.state == Impl::State::Ready; });
    };
    while (!all_ready() && Clock::now() < deadline) {
        std::vector<pollfd> fds;
        for (int fd : poll_fds()) fds.push_back({fd, POLLIN, 0});
        poll(fds.data(), fds.size(), static_cast<int>(next_timeout().count()));
        std::vector<RenderResult> none = collect();
        (void)none;  // nothing was submitted yet
    }
    if (std::none_of(impl_->slots.begin(), impl_->slots.end(),
                     [](const Impl::Slot& s) { return s.state == Impl::State::Ready; })) {
        throw std::runtime_error("no renderer became ready (binary " + impl_->options.binary +
                                 ", display " + impl_->options.display + ")");
    }
}

RendererPool::~RendererPool() {
    // Closing stdin asks each child to exit; whoever lingers is killed by
    // ChildProcess's destructor.
    for (auto& slot : impl_->slots)
        if (slot.process) slot.process->close_stdin();
    const auto deadline = Clock::now() + kStopGrace;
    for (auto& slot : impl_->slots) {
        while (slot.process && !slot.process->exited() && Clock::now() < deadline) usleep(10'000);
        slot.process.reset();
    }
}

std::size_t RendererPool::free_slots() const {
    std::size_t free = 0;
    const auto per_child = static_cast<std::size_t>(impl_->options.views_per_process);
    for (const auto& slot : impl_->slots)
        if (slot.open() && slot.in_flight.size() < per_child)
            free += per_child - slot.in_flight.size();
    const std::size_t waiting = impl_->waiting.size();
    return free > waiting ? free - waiting : 0;
}

void RendererPool::submit(RenderRequest request) {
    impl_->waiting.push_back(std::move(request));
    impl_->dispatch();
}

// Where `request` can run now: for a request that must run alone, an idle
// child; for any other, the open child with the fewest requests in flight.
int RendererPool::Impl::open_slot_for(const RenderRequest& request) const {
    const auto per_child = static_cast<std::size_t>(options.views_per_process);
    int best = -1;
    for (const auto& slot : slots) {
        if (request.alone) {
            if (slot.state == State::Ready && !slot.alone && slot.in_flight.empty())
                return slot.index;
            continue;
        }
        if (!slot.open() || slot.in_flight.size() >= per_child) continue;
        if (best < 0 ||
            slot.in_flight.size() < slots[static_cast<std::size_t>(best)].in_flight.size())
            best = slot.index;
    }
    return best;
}

// Sends every waiting request that can run now, in order. A request that
// must run alone and finds no idle child makes the least busy child stop
// taking new work until it is idle.
void RendererPool::Impl::dispatch() {
    bool draining = std::any_of(slots.begin(), slots.end(), [](const Slot& s) {
        return s.state == State::Ready && s.draining;
    });
    for (auto it = waiting.begin(); it != waiting.end();) {
        if (const int index = open_slot_for(*it); index >= 0) {
            Slot& slot = slots[static_cast<std::size_t>(index)];
            RenderRequest request = std::move(*it);
            it = waiting.erase(it);
            slot.draining = false;
            slot.alone = request.alone;
            send(slot, request);
            continue;
        }
        if (it->alone && !draining) {
            Slot* least_busy = nullptr;
            for (auto& slot : slots)
                if (slot.open() &&
                    (!least_busy || slot.in_flight.size() < least_busy->in_flight.size()))
                    least_busy = &slot;
            if (least_busy) {
                least_busy->draining = true;
                draining = true;
            }
        }
        ++it;
    }
    // The request a child drained for may have gone to another child that
    // became idle first, or been cancelled: with none left waiting, no
    // child has a reason to refuse work.
    if (draining && std::none_of(waiting.begin(), waiting.end(),
                                 [](const RenderRequest& r) { return r.alone; })) {
        for (auto& slot : slots) slot.draining = false;
    }
}

void RendererPool::Impl::send(Slot& slot, const RenderRequest& request) {
    nlohmann::json message = {
        {"v", 1},
        {"id", request.id},
        {"url", request.url},
        {"format", request.format},
        {"out", request.out_path},
        {"job_id", request.job_id},
        {"options", request.options.is_object() ? request.options : nlohmann::json::object()}};
    std::string frame;
    try {
        frame = encode_frame(message);
    } catch (const FrameError& e) {
        slot.alone = false;
        deferred.push_back(
            failure(request.id, "invalid_request", "Invalid render request: too large"));
        return;
    }
    const auto budget = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(timeout_seconds(request.options)));
    slot.in_flight[request.id] = {request.out_path, request.job_id,
                                  Clock::now() + budget + options.hang_grace};
    if (!slot.process->send(frame)) lose_unwritable(slot, deferred);
}

void RendererPool::cancel(std::uint64_t id) {
    auto& waiting = impl_->waiting;
    auto queued = std::find_if(waiting.begin(), waiting.end(),
                               [id](const RenderRequest& r) { return r.id == id; });
    if (queued != waiting.end()) {
        waiting.erase(queued);
        impl_->deferred.push_back(failure(id, "cancelled", "The render was cancelled"));
        return;
    }
    for (auto& slot : impl_->slots) {
        if (!slot.process || !slot.in_flight.count(id)) continue;
        if (!slot.process->send(encode_frame({{"v", 1}, {"cancel", id}})))
            impl_->lose_unwritable(slot, impl_->deferred);
        return;
    }
}

std::vector<int> RendererPool::poll_fds() const {
    std::vector<int> fds;
    for (const auto& slot : impl_->slots)
        if (slot.process) fds.push_back(slot.process->read_fd());
    return fds;
}

std::chrono::milliseconds RendererPool::next_timeout() const {
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    if (!impl_->deferred.empty()) return milliseconds(0);
    // A waiting request and a child it can go to.
    for (const RenderRequest& r : impl_->waiting)
        if (impl_->open_slot_for(r) >= 0) return milliseconds(0);
    for (const auto& slot : impl_->slots) {
        switch (slot.state) {
            case Impl::State::Down:
                next = std::min(next, slot.restart_at);
                break;
            case Impl::State::Starting:
                next = std::min(next, slot.started_at + kStartTimeout);
                break;
            case Impl::State::Ready:
            case Impl::State::Retiring:
                for (const auto& [id, r] : slot.in_flight) next = std::min(next, r.deadline);
                break;
        }
        // Unflushed requests wait for the pipe to drain; poll them soon.
        if (slot.process && slot.process->write_pending())
            next = std::min(next, now + milliseconds(10));
    }
    return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(next - now));
}

std::vector<RenderResult> RendererPool::collect() {
    std::vector<RenderResult> out = std::move(impl_->deferred);
    impl_->deferred.clear();
    const auto now = Clock::now();
    for (auto& slot : impl_->slots) {
        try {
            impl_->service(slot, now, out);
        } catch (const std::exception& e) {
            // Boundary: whatever a child did, the pool keeps going.
            impl_->lose(slot, std::string("unexpected error: ") + e.what(), out);
        }
    }
    impl_->dispatch();
    out.insert(out.end(), std::make_move_iterator(impl_->deferred.begin()),
               std::make_move_iterator(impl_->deferred.end()));
    impl_->deferred.clear();
    return out;
}

}  // namespace enconvert::render

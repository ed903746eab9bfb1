// Shared by the view_slot*.cpp files only.
#pragma once

#include <glib.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace enconvert::render_child {

class ViewSlot;

namespace slot_detail {

// Pages that never go quiet (polling, streaming) are captured after this
// rather than failing: what is there is usually what the customer wants.
constexpr gint64 kSettleCapUs = 5 * 1000 * 1000;
constexpr guint kSettlePollMs = 50;
// A print that signals neither finished nor failed within this is stuck.
constexpr guint kPrintWatchdogMs = 30 * 1000;
constexpr guint kResetWatchdogMs = 15 * 1000;
// How long a view's reset waits after its answer while no job waits
// (ViewSlot::defer_reset): longer than the worker takes to store and record
// a result and answer its client (~5 ms on 2 CPUs).
constexpr guint kResetDelayMs = 20;
// How long a failed print waits for the web process's termination signal.
constexpr guint kDeathReportGraceMs = 300;
// Callbacks of a view that may throw (callback_guard.h) before a job
// succeeds again; one more ends the child.
constexpr int kMaxCallbackFaults = 3;
// Fresh view + context after this many jobs, bounding leaks in long runs.
constexpr int kJobsPerView = 200;
// Loads of a job's URL the engine may abandon before one is given up (see
// ViewSlot::on_load_failed).
constexpr int kEngineAbandonedLoadRetries = 3;
// ... each after this much more than the last (100, 200, 300 ms): loaded
// again at once, the three could all be cancelled within 40 ms, before the
// engine had given up the connection it rejected (seen in CI).
constexpr guint kEngineAbandonedReloadStepMs = 100;
// Web process memory: killed at the limit, polled this often.
constexpr double kKillThreshold = 1.0;
constexpr double kMemoryPollSeconds = 0.5;

// The answer of a job whose web process died under it.
constexpr const char* kEngineCrashedMessage = "Failed to render page: the browser engine crashed";

// Removes a job's output in the making and its header/footer sheets
// (`bands` empty: none), whatever of them exists.
inline void remove_job_files(const std::string& body, const std::string& bands) {
    if (!body.empty()) unlink(body.c_str());
    if (!bands.empty()) unlink(bands.c_str());
}

// Carried through async calls: the slot and the generation that started it.
struct AsyncTag {
    ViewSlot* slot;
    std::uint64_t generation;
};

}  // namespace slot_detail
}  // namespace enconvert::render_child

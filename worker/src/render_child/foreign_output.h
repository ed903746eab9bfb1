// What the renderer's other processes write to stderr, made log lines.
// WebKit's web and network processes (and bubblewrap) inherit the child's
// stderr, the worker's log, and GLib in those processes writes its warnings
// there as plain text ("** (WebKitWebProcess:2): WARNING **: …"): a log
// that must be one JSON object per line (log/log.h) would get lines no
// reader can parse. The child's own lines go to a copy of its stderr; its
// stderr becomes a pipe whose lines are logged as JSON by a thread of
// their own (component "engine"), so a process writing to it never waits
// for the child's main loop. How much of it is logged is bounded
// (log_budget.h): past a burst, a process that floods its stderr is
// logged at a steady rate and the rest counted in one warning.
#pragma once

namespace enconvert::render_child {

// Once, at start-up, before any process is spawned. False (nothing
// changed) when a pipe or descriptor could not be made.
bool capture_foreign_output();

}  // namespace enconvert::render_child

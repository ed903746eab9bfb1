// When a page counts as quiet for wait_until "networkidle" (docs/api.md).
//
// The rule is: no request in flight for kQuietUs. The 500 ms are there for
// what a page's scripts may still start (a fetch after a timer, a loader
// that waits for an event); a page that runs no script, shows no frame or
// media, does not refresh itself and has no animation running cannot start
// a request by itself any more, so waiting for what it might start
// changes nothing in its capture. Such a page is quiet after
// kInertQuietUs. Most documents people convert (invoices, reports, manuals
// made on a server) are such pages; the wait was most of their render time.
//
// What decides it errs towards waiting: a page is inert only when both its
// document (kInertPageScript) and then its source (source_may_run_script,
// which catches a script that removed itself from the DOM) say so.
#pragma once

#include <glib.h>

#include <string_view>

namespace enconvert::render_child {

constexpr gint64 kQuietUs = 500 * 1000;
// An inert page's requests may still end in ones they start (a style sheet
// naming a font or an image is read after it arrives): it waits a few
// rendering updates, even on a busy host, for those to begin.
constexpr gint64 kInertQuietUs = 100 * 1000;

// True when the main document's bytes may run script or hold a declarative
// shadow root (whose contents kInertPageScript cannot see): "<script" or
// "shadowroot" anywhere, in any case, even in text or a comment.
bool source_may_run_script(std::string_view source);

// The largest main document whose source is searched; a larger one waits
// the full quiet period (its bytes would be copied out of the web process).
constexpr double kMaxSearchedSourceBytes = 16.0 * 1024 * 1024;

// Isolated-world script, argument maxSource (bytes): resolves to "" when
// the document can start no request by itself any more, or to the first
// reason it can. Run before the source is read, which it bounds.
extern const char* const kInertPageScript;

}  // namespace enconvert::render_child

// Whether a page can react to being scrolled. enable_scroll (on by default)
// scrolls a page down a viewport at a time, 100 ms a step, so that lazy
// loaders see their content come into view; every step also repaints the
// viewport. A page with nothing that watches scrolling, as most documents,
// gained nothing from it and waited ~100 ms per 1,080 px: a long manual
// page (PostgreSQL's app-psql.html) took 4.7 s instead of 1.6 s.
//
// A script in the page's own world, run before the page's scripts, notes
// whether the page makes an IntersectionObserver or listens for scroll or
// wheel events. kScrollScript (isolated world, page_cleanup_scripts.cpp)
// asks through a cancelable DOM event named kScrollProbeEvent, dispatched on
// the document: the watcher cancels it when the page watches scrolling.
#pragma once

#include <webkit2/webkit2.h>

namespace enconvert::render_child {

extern const char* const kScrollProbeEvent;

// Adds the watcher to every top-level document a view loads.
void add_scroll_watch(WebKitUserContentManager* manager);

}  // namespace enconvert::render_child

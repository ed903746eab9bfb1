// Scripts of the request fields that change a page before its capture:
// enable_scroll, wait_for_images, handle_cookies.
// Like page_scripts.h they run in the isolated world (kScriptWorld), each
// the body of an async function.
#pragma once

namespace enconvert::render_child {

// Arguments: budget (ms), probe (kScrollProbeEvent). Scrolls down a
// viewport height at a time, at most 40,000 px, pausing at each step so lazy
// loaders (IntersectionObserver, loading="lazy") see their content come into
// view, then back to the top; resolves to the steps taken. A page that
// cannot react to scrolling is not scrolled (-1; scroll_watch.h).
extern const char* const kScrollScript;

// Arguments: budget (ms). Waits until every image of the document has
// loaded or failed (lazy ones are loaded now: the whole page is captured),
// at most `budget`. Resolves to the number still loading.
extern const char* const kWaitForImagesScript;

// Arguments: consent (1 or 0). Hides the banners and overlays of the
// common consent managers and lets the page scroll again if one was there.
// Resolves to the number of elements hidden. (handle_sticky_header needs no
// script: WebKit prints fixed and sticky elements once, docs/rendering.md.)
extern const char* const kPageCleanupScript;

}  // namespace enconvert::render_child

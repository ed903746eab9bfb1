// The style every captured page gets on top of its own: no scrollbars.
// A printed scrollbar covers the last line of an `overflow: auto` block,
// and a screenshot's scrollbar gutter made it narrower than the viewport
// asked for (1268 px for 1280); Chromium's capture shows neither.
#pragma once

#include <webkit2/webkit2.h>

namespace enconvert::render_child {

// A content manager holding the capture style sheet, for a new web view
// (the view takes its own reference).
WebKitUserContentManager* new_capture_content_manager();

}  // namespace enconvert::render_child

// The JavaScript the renderer runs in pages, always in its own isolated
// world (kScriptWorld) so page scripts cannot tamper with it. Each is the
// body of an async function for webkit_web_view_call_async_javascript_function.
#pragma once

namespace enconvert::render_child {

constexpr const char* kScriptWorld = "enconvert";

// Arguments: selector (string), timeout (ms). Resolves to "found",
// "timeout" or "invalid" (the selector does not parse).
extern const char* const kWaitForSelectorScript;

// Waits for document.fonts.ready (web fonts loaded) and resolves to the
// document title.
extern const char* const kFontsReadyScript;

// Arguments: width (CSS px of the printable area), zoom (print zoom, see
// print_setup.h). Adds the print stylesheet (zoom), lays the document out at the printable width as
// printing will, and resolves to a JSON string
// {"height": px, "links": [{"href","x","y","w","h"}]} with boxes in document
// CSS px; then restores the screen layout.
extern const char* const kPreparePrintScript;

}  // namespace enconvert::render_child

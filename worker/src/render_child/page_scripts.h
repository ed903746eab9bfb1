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
// print_setup.h), pageHeight (CSS px of the printable height, 0 for one
// endless sheet). Preceded by table_headers.h's function, it first splits
// long tables so each printed page repeats their header. Measures the document laid out at the
// printable width with its print styles, adds the print stylesheet (zoom), restores the screen
// layout and resolves to a JSON string:
//   {"height": px,
//    "items": [{"kind": "link", "href", "text", "boxes": [{x,y,w,h}],
//               "target": index into targets (#fragment links only)} |
//              {"kind": "heading", "level": 1..6, "text", "boxes": [...]}],
//    "targets": [{"text", "box": {x,y,w,h}} | {"top": true}],
//    "meta": {"title", "author", "subject", "keywords"}}
// items in document order, only those printed; boxes in document CSS px;
// text is the visible text with white space collapsed.
extern const char* const kPreparePrintScript;

}  // namespace enconvert::render_child

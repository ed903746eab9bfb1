// The one message between the renderer (UI process) and its web process
// extension (request_headers.cpp): before each job the view tells its page
// which extra request headers the job sends and to which origin.
#pragma once

namespace enconvert::render_child {

// Parameters: GVariant "(sa(ss))": the job's URL (its origin is the only
// one that gets the headers), then the headers as (name, value) pairs. An
// empty list clears the page's headers. The extension answers with an empty
// reply once the page holds them, so the view loads only after that.
inline constexpr const char* kRequestHeadersMessage = "enconvert-request-headers";
inline constexpr const char* kRequestHeadersSignature = "(sa(ss))";

// Subdirectory beside the renderer binary that holds the extension, alone:
// WebKit loads every shared object of the directory it is given.
inline constexpr const char* kWebExtensionDir = "web-extension";

}  // namespace enconvert::render_child

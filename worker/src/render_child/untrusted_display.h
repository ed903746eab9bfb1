// The web processes join the X display as untrusted clients. WebKitGTK's
// web processes open the display themselves, with the cookie in their
// XAUTHORITY; given the renderer's own (trusted) cookie, a page that broke
// out of the engine could read any window on the server, among them the
// views rendering other accounts' pages, and close other clients. The X
// SECURITY extension makes a second cookie whose clients cannot touch a
// trusted client's windows, pixmaps or connection: the renderer keeps the
// trusted one and hands its web processes that one (docs/security.md,
// "The X display").
#pragma once

#include <X11/Xlib.h>

#include <memory>
#include <string>

#include "render/x_authority.h"

namespace enconvert::render_child {

struct UntrustedAuthority {
    std::unique_ptr<render::XAuthorityFile> file;  // when made
    std::string error;                             // when not: why
};

// Asks the server behind `display` (the renderer's trusted connection)
// for an untrusted cookie that never expires and writes it to an X
// authority file in `directory` (empty: a directory of its own).
UntrustedAuthority make_untrusted_authority(Display* display, const std::string& directory);

}  // namespace enconvert::render_child

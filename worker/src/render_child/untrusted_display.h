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

#include <xcb/xcb.h>

#include <memory>
#include <string>

#include "render/x_authority.h"

// Xlib's display, without Xlib's macros (None, Bool, Status…) in every
// file that includes this one.
typedef struct _XDisplay Display;

namespace enconvert::render_child {

// Closes an XCB connection.
struct XcbDisconnect {
    void operator()(xcb_connection_t* c) const { xcb_disconnect(c); }
};

struct UntrustedAuthority {
    std::unique_ptr<render::XAuthorityFile> file;  // when made
    // The renderer's own connection with the untrusted cookie, held while
    // it lives: the server forgets the cookie kUntrustedCookieGraceSeconds
    // after its last client leaves, so a renderer that is killed (and its
    // web processes with it) leaves nothing behind on the server, while a
    // live renderer can start web processes at any time.
    std::unique_ptr<xcb_connection_t, XcbDisconnect> holder;
    std::string error;  // when not made: why
};

inline constexpr unsigned kUntrustedCookieGraceSeconds = 60;

// Asks the server behind `display` (the renderer's trusted connection)
// for an untrusted cookie, writes it to an X authority file in `directory`
// (empty: a directory of its own) and connects with it.
UntrustedAuthority make_untrusted_authority(Display* display, const std::string& directory);
}  // namespace enconvert::render_child

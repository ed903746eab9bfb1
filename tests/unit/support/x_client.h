// An X client for the tests: connects to a display presenting exactly
// the cookie it is given (xcb), and reads X authority files as clients
// do (libXau).
#pragma once

#include <X11/Xauth.h>
#include <xcb/xcb.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace enconvert::render {

struct ConnectionCloser {
    void operator()(xcb_connection_t* c) const { xcb_disconnect(c); }
};
using Connection = std::unique_ptr<xcb_connection_t, ConnectionCloser>;

struct AuthEntry {
    std::string name;
    std::vector<char> data;
};

// The first entry of an X authority file, read with libXau as clients do.
inline std::optional<AuthEntry> first_entry(const std::string& path) {
    FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) return std::nullopt;
    Xauth* entry = XauReadAuth(file);
    std::fclose(file);
    if (!entry) return std::nullopt;
    AuthEntry out{std::string(entry->name, entry->name_length),
                  std::vector<char>(entry->data, entry->data + entry->data_length)};
    XauDisposeAuth(entry);
    return out;
}

// Connects presenting exactly `auth` (an empty one: no credentials).
inline Connection connect_with(const std::string& display, AuthEntry auth) {
    xcb_auth_info_t info{};
    info.namelen = static_cast<int>(auth.name.size());
    info.name = auth.name.data();
    info.datalen = static_cast<int>(auth.data.size());
    info.data = auth.data.data();
    return Connection(xcb_connect_to_display_with_auth_info(display.c_str(), &info, nullptr));
}

// Whether the client behind `c` may read the pixels of `window` (one).
inline bool can_read_pixels(xcb_connection_t* c, xcb_window_t window) {
    xcb_generic_error_t* error = nullptr;
    xcb_get_image_reply_t* reply = xcb_get_image_reply(
        c, xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, window, 0, 0, 1, 1, ~0u), &error);
    const bool ok = reply != nullptr;
    std::free(reply);
    std::free(error);
    return ok;
}

// The process that made `window`, from the _NET_WM_PID GTK sets on its
// top-level windows; 0 when it has none.
inline std::uint32_t window_pid(xcb_connection_t* c, xcb_window_t window) {
    constexpr const char kName[] = "_NET_WM_PID";
    xcb_intern_atom_reply_t* atom =
        xcb_intern_atom_reply(c, xcb_intern_atom(c, 1, sizeof kName - 1, kName), nullptr);
    if (!atom) return 0;
    xcb_get_property_reply_t* property = xcb_get_property_reply(
        c, xcb_get_property(c, 0, window, atom->atom, XCB_ATOM_CARDINAL, 0, 1), nullptr);
    std::free(atom);
    std::uint32_t pid = 0;
    if (property && xcb_get_property_value_length(property) == 4)
        pid = *static_cast<const std::uint32_t*>(xcb_get_property_value(property));
    std::free(property);
    return pid;
}

// The drawables (windows and pixmaps) among the first `count` resource
// ids of the client whose ids start at `base`: X has no request that lists
// a client's pixmaps, but ids are handed out in order from the base.
inline std::vector<xcb_drawable_t> drawables_of_client(xcb_connection_t* c, std::uint32_t base,
                                                       std::uint32_t count) {
    std::vector<xcb_get_geometry_cookie_t> asked;
    for (std::uint32_t i = 1; i <= count; ++i) asked.push_back(xcb_get_geometry(c, base + i));
    std::vector<xcb_drawable_t> found;
    for (std::uint32_t i = 0; i < count; ++i) {
        xcb_generic_error_t* error = nullptr;
        xcb_get_geometry_reply_t* reply = xcb_get_geometry_reply(c, asked[i], &error);
        if (reply) found.push_back(base + i + 1);
        std::free(reply);
        std::free(error);
    }
    return found;
}

// The first id of the client that made `resource`.
inline std::uint32_t client_base(xcb_connection_t* c, std::uint32_t resource) {
    return resource & ~xcb_get_setup(c)->resource_id_mask;
}

// Waits until the server has handled every request sent on `c`.
inline void round_trip(xcb_connection_t* c) {
    std::free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), nullptr));
}

// The root window of the first screen of `c`.
inline xcb_window_t root_window(xcb_connection_t* c) {
    return xcb_setup_roots_iterator(xcb_get_setup(c)).data->root;
}

// The top-level windows on the first screen of `c`.
inline std::vector<xcb_window_t> top_level_windows(xcb_connection_t* c) {
    const xcb_screen_t* screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    xcb_query_tree_reply_t* tree =
        xcb_query_tree_reply(c, xcb_query_tree(c, screen->root), nullptr);
    std::vector<xcb_window_t> windows;
    if (!tree) return windows;
    const xcb_window_t* children = xcb_query_tree_children(tree);
    const int count = xcb_query_tree_children_length(tree);
    for (int i = 0; i < count; ++i) windows.push_back(children[i]);
    std::free(tree);
    return windows;
}

}  // namespace enconvert::render

#include "render_child/untrusted_display.h"

#include <X11/Xauth.h>
#include <X11/Xlib.h>
#include <X11/extensions/security.h>

#include <exception>
#include <memory>
#include <string>

namespace enconvert::render_child {

namespace {

struct XauthFree {
    void operator()(Xauth* a) const { XSecurityFreeXauth(a); }
};
using XauthPtr = std::unique_ptr<Xauth, XauthFree>;

}  // namespace

UntrustedAuthority make_untrusted_authority(Display* display, const std::string& directory) {
    UntrustedAuthority out;
    int major = 0, minor = 0;
    if (!display || !XSecurityQueryExtension(display, &major, &minor)) {
        out.error = "the X server has no SECURITY extension";
        return out;
    }
    XauthPtr request(XSecurityAllocXauth());
    if (!request) {
        out.error = "out of memory";
        return out;
    }
    std::string protocol = render::XAuthorityFile::kProtocol;
    request->name = protocol.data();
    request->name_length = static_cast<unsigned short>(protocol.size());
    XSecurityAuthorizationAttributes attributes{};
    attributes.trust_level = XSecurityClientUntrusted;
    // Counted from when no client uses it: `holder` below is one for as
    // long as the renderer lives.
    attributes.timeout = kUntrustedCookieGraceSeconds;
    XSecurityAuthorization id = 0;
    XauthPtr granted(XSecurityGenerateAuthorization(
        display, request.get(), XSecurityTrustLevel | XSecurityTimeout, &attributes, &id));
    request->name = nullptr;  // not XSecurityFreeXauth's to free
    if (!granted || granted->data_length == 0) {
        out.error = "the X server made no untrusted cookie";
        return out;
    }
    xcb_auth_info_t auth{};
    auth.namelen = static_cast<int>(protocol.size());
    auth.name = protocol.data();
    auth.datalen = granted->data_length;
    auth.data = granted->data;
    out.holder.reset(xcb_connect_to_display_with_auth_info(DisplayString(display), &auth, nullptr));
    if (!out.holder || xcb_connection_has_error(out.holder.get())) {
        out.holder.reset();
        out.error = "the X server refused its own untrusted cookie";
        return out;
    }
    try {
        out.file = std::make_unique<render::XAuthorityFile>(
            render::XAuthorityFile::Cookie(granted->data, granted->data + granted->data_length),
            directory);
    } catch (const std::exception& e) {
        out.holder.reset();
        out.error = e.what();
    }
    return out;
}

}  // namespace enconvert::render_child

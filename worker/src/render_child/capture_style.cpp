#include "render_child/capture_style.h"

namespace enconvert::render_child {
namespace {

// User-level !important beats the page's own !important rules. Scrolling
// still works (scripts, lazy loading); only the bars are not drawn and take
// no room.
constexpr const char* kNoScrollbars = R"CSS(
*, *::before, *::after { scrollbar-width: none !important; }
::-webkit-scrollbar { display: none !important; width: 0 !important; height: 0 !important; }
)CSS";

}  // namespace

WebKitUserContentManager* new_capture_content_manager() {
    WebKitUserContentManager* manager = webkit_user_content_manager_new();
    WebKitUserStyleSheet* sheet =
        webkit_user_style_sheet_new(kNoScrollbars, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
                                    WEBKIT_USER_STYLE_LEVEL_USER, nullptr, nullptr);
    webkit_user_content_manager_add_style_sheet(manager, sheet);
    webkit_user_style_sheet_unref(sheet);
    return manager;
}

}  // namespace enconvert::render_child

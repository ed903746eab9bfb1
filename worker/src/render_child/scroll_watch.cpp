#include "render_child/scroll_watch.h"

#include <string>

namespace enconvert::render_child {

const char* const kScrollProbeEvent = "enconvert-scroll-probe";

namespace {

// `probe` is spliced in below. The wrappers pass every call through
// unchanged and cannot throw themselves: the listener type is compared as a
// string (a page's object with its own toString is not called), and the
// built-ins they use are taken before the page's scripts run, so a page
// that replaces Reflect or Array.prototype cannot break its own
// addEventListener through them. The event handler properties
// (`window.onscroll`, `<body onscroll>`) are read when asked, not wrapped.
constexpr const char* kWatcherHead = "(() => {\nconst PROBE = '";
constexpr const char* kWatcherBody = R"JS(';
const apply = Reflect.apply, construct = Reflect.construct;
const scrolling = (type) => type === 'scroll' || type === 'scrollend' || type === 'wheel' ||
    type === 'mousewheel' || type === 'touchmove';
let watches = false;
const Observer = window.IntersectionObserver;
if (typeof Observer === 'function') {
  window.IntersectionObserver = new Proxy(Observer, {
    construct(target, args, newTarget) {
      watches = true;
      return construct(target, args, newTarget);
    }
  });
}
const add = EventTarget.prototype.addEventListener;
EventTarget.prototype.addEventListener = new Proxy(add, {
  apply(target, self, args) {
    if (scrolling(args[0])) watches = true;
    return apply(target, self, args);
  }
});
apply(add, document, [PROBE, event => {
  if (watches || window.onscroll || window.onwheel || document.onscroll || document.onwheel)
    event.preventDefault();
}]);
})();
)JS";

}  // namespace

void add_scroll_watch(WebKitUserContentManager* manager) {
    const std::string source = std::string(kWatcherHead) + kScrollProbeEvent + kWatcherBody;
    WebKitUserScript* script =
        webkit_user_script_new(source.c_str(), WEBKIT_USER_CONTENT_INJECT_TOP_FRAME,
                               WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, nullptr, nullptr);
    webkit_user_content_manager_add_script(manager, script);
    webkit_user_script_unref(script);
}

}  // namespace enconvert::render_child

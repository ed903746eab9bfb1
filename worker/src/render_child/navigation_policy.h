// Which main-frame navigations a page may make: the first URL, redirects,
// script navigations (location = …, top.location, form submissions). Only
// http(s) on a port browsers allow; anything else is refused at once
// instead of leaving the job to wait for its deadline (WebKit drops such
// loads silently). A server redirect to file: never reaches the policy
// check: WebCore cancels it, and the cancelled file: URL is refused here
// (ViewSlot::fail_refused_navigation; ViewSlot::begin_reset explains why
// the web process is not killed for it).
#pragma once

#include <optional>
#include <string>

#include "render_child/load_error.h"

namespace enconvert::render_child {

// The error for navigating to `uri`, or nullopt when it is allowed.
// about:blank (the view's reset) is allowed.
std::optional<LoadError> refused_navigation(const std::string& uri);

// Whether two URLs have the same scheme, host and port (a default port
// written out or left implicit is the same). Not URLs: false.
bool same_origin(const std::string& a, const std::string& b);

}  // namespace enconvert::render_child

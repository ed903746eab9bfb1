// Where a website capture's page goes inside its ZIP: named
// after its path, so the archive mirrors the site ("docs/getting-started.pdf"
// for https://example.com/docs/getting-started.html).
#pragma once

#include <string>
#include <string_view>

namespace enconvert::scheduler {

// The entry name of the page at `url` with the file extension `ext`:
// every path segment made a safe file name (storage::sanitize_name), a
// trailing ".html"/".htm"/".php"/".asp"/".aspx" dropped, "index" for a path
// ending in "/", the query (when any) appended after "_", at most 16
// directory levels. Never absolute, never with "..": a page cannot name a
// file outside the archive's root. Callers still make it unique.
std::string site_page_entry_name(const std::string& url, std::string_view ext);

}  // namespace enconvert::scheduler

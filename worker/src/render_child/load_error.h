// Turns the GError of a failed page load into an error code of
// schema/messages.md and a sentence a user can act on.
#pragma once

#include <glib.h>

#include <string>

namespace enconvert::render_child {

struct LoadError {
    std::string code;     // dns_error, connection_failed, tls_error, load_failed
    std::string message;  // "Failed to load page: ..."
};

LoadError classify_load_error(const GError* error, const std::string& url);

// WebKit reports loads it abandoned itself (a newer navigation replaced the
// old one) as cancellations; they are not failures of the job.
bool is_cancellation(const GError* error);

std::string host_of(const std::string& url);

}  // namespace enconvert::render_child

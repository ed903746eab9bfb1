// Turns the GError of a failed page load into an error code of
// schema/messages.md and a sentence a user can act on.
#pragma once

#include <glib.h>

#include <string>

#include "render_child/gate/outbound_gate.h"

namespace enconvert::render_child {

struct LoadError {
    std::string code;     // dns_error, connection_failed, tls_error, blocked_address, load_failed
    std::string message;  // "Failed to load page: ..."
};

LoadError classify_load_error(const GError* error, const std::string& url);

// The same for a load the outbound gate turned away: the engine only saw a
// SOCKS reply, the gate knows why.
LoadError refusal_error(const GateRefusal& refusal, const std::string& url);

// WebKit reports loads it abandoned itself (a newer navigation replaced the
// old one) as cancellations; they are not failures of the job.
bool is_cancellation(const GError* error);

// "host:port" (the port only when the URL has one), and the bare host (IPv6
// without brackets), as the outbound gate records it.
std::string host_of(const std::string& url);
std::string hostname_of(const std::string& url);

// http_error: the main document of `url` answered `status` (4xx/5xx).
LoadError http_error(const std::string& url, int status);

}  // namespace enconvert::render_child

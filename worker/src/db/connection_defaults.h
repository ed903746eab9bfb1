// How long the worker waits on a database that stopped answering. libpq's
// own defaults wait without end for a connection to open and rely on the
// kernel to notice a peer that vanished (2 h of keepalive idle, ~15 min of
// retransmissions): a database host that is cut off (a firewall dropping
// packets, a failover that left the old address dark) froze each
// component's loop for that long. The operator keeps the last word: a
// parameter database_url or the environment (PGCONNECT_TIMEOUT, ...) sets is
// left as it is, and nothing is added to a URL naming a service (its file
// may set them).
#pragma once

#include <string>

namespace enconvert::db {

// `url` (key=value or postgresql:// form) as key=value, with
// connect_timeout=10, keepalives_idle=30, keepalives_interval=10,
// keepalives_count=3 and tcp_user_timeout=30000 (ms) where it sets none.
// A URL libpq cannot parse is returned unchanged (connecting reports it).
// A `component` names the connection for PostgreSQL
// (fallback_application_name "enconvert-<component>", seen in
// pg_stat_activity and the server's log); an application_name the operator
// set wins.
std::string with_connection_defaults(const std::string& url, const std::string& component = "");

}  // namespace enconvert::db

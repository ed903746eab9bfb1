// Fetch's "bad port" list (https://fetch.spec.whatwg.org/#port-blocking),
// which WebKit and Chromium enforce: mail, FTP, IRC, X11, SIP, ... ports.
// A request made to one of them on an attacker's behalf speaks HTTP to a
// service that may act on the lines it reads (an SMTP relay sending mail),
// so every outbound client of ours refuses them as browsers do: the page
// navigation policy, website discovery and webhook delivery.
#pragma once

namespace enconvert::net {

bool is_restricted_port(int port);

}  // namespace enconvert::net

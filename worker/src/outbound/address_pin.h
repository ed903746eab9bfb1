// Keeps a libcurl transfer's connections to the addresses the outbound
// policy checked (net/address_policy.h), tried in their order: webhooks
// and website discovery alike. Whatever the URL's host resolves to by the
// time curl connects (a second answer of a rebinding DNS server), only a
// checked address is connected to, and a host's next address is tried when
// one does not answer.
#pragma once

#include <curl/curl.h>

#include <string>
#include <vector>

#include "curl/curl_handles.h"
#include "net/address_policy.h"

namespace enconvert::outbound {

// A connection's socket, only to one of `pinned`; CURL_SOCKET_BAD for any
// other address or purpose (an AddressPin's CURLOPT_OPENSOCKETFUNCTION).
curl_socket_t open_pinned_socket(const std::vector<net::IpAddress>& pinned, curlsocktype purpose,
                                 const curl_sockaddr& address);

class AddressPin {
  public:
    // `label`: unique among the handles sharing a DNS cache (a multi
    // handle's); `host`: the URL's, for messages; `addresses`: not empty.
    AddressPin(const std::string& label, std::string host, int port,
               std::vector<net::IpAddress> addresses);
    AddressPin(const AddressPin&) = delete;
    AddressPin& operator=(const AddressPin&) = delete;

    // Sets the handle's CONNECT_TO, RESOLVE and socket opener, and its
    // connect timeout to `time_left_ms` (the transfer's own time); the pin
    // must outlive the handle's transfers.
    void apply(CURL* handle, long time_left_ms) const;

    // A libcurl error message of the handle with the URL's host where curl
    // names the pinned name ("Failed to connect to n7.enconvert.invalid
    // port 443"): the name means nothing to the reader.
    std::string message(std::string curl_text) const;

  private:
    static curl_socket_t on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);

    std::string name_;  // label.enconvert.invalid
    std::string host_;
    std::vector<net::IpAddress> addresses_;  // the only ones a socket is opened to
    curl::CurlSlist connect_to_;             // to a name only resolve_ knows
    curl::CurlSlist resolve_;                // that name's addresses
};

}  // namespace enconvert::outbound

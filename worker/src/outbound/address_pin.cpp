#include "outbound/address_pin.h"

#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>

namespace enconvert::outbound {

curl_socket_t open_pinned_socket(const std::vector<net::IpAddress>& pinned, curlsocktype purpose,
                                 const curl_sockaddr& address) {
    const std::optional<net::IpAddress> ip = net::IpAddress::of(&address.addr);
    if (purpose != CURLSOCKTYPE_IPCXN || !ip ||
        std::find(pinned.begin(), pinned.end(), *ip) == pinned.end())
        return CURL_SOCKET_BAD;
    return socket(address.family, address.socktype | SOCK_CLOEXEC, address.protocol);
}

// The connection goes to a name that exists only in curl's DNS cache,
// filled with the checked addresses ("+": dropped from the cache after its
// timeout, not kept for ever); curl tries them in order and races the two
// families. The .invalid domain never resolves, so without that entry
// nothing is connected to. TLS still verifies the certificate for the
// URL's host. The socket opener is the second look: an address curl got
// any other way (a curl change, a search domain) fails closed.
AddressPin::AddressPin(const std::string& label, std::string host, int port,
                       std::vector<net::IpAddress> addresses)
    : name_(label + ".enconvert.invalid"),
      host_(std::move(host)),
      addresses_(std::move(addresses)) {
    if (addresses_.empty()) throw std::runtime_error("no address to connect to");
    const std::string port_text = std::to_string(port);
    std::string list;
    for (const net::IpAddress& a : addresses_) {
        if (!list.empty()) list += ',';
        list += a.v6 ? "[" + a.text() + "]" : a.text();
    }
    resolve_.append("+" + name_ + ":" + port_text + ":" + list);
    connect_to_.append("::" + name_ + ":" + port_text);
}

void AddressPin::apply(CURL* handle, long time_left_ms) const {
    curl::set_option(handle, CURLOPT_RESOLVE, resolve_.get());
    curl::set_option(handle, CURLOPT_CONNECT_TO, connect_to_.get());
    curl::set_option(handle, CURLOPT_OPENSOCKETFUNCTION, &AddressPin::on_open_socket);
    curl::set_option(handle, CURLOPT_OPENSOCKETDATA,
                     static_cast<void*>(const_cast<AddressPin*>(this)));
    // curl gives each address but the last half of the connect time left:
    // bounded by the transfer's own time, an address that drops packets
    // leaves the next one time to answer.
    curl::set_option(handle, CURLOPT_CONNECTTIMEOUT_MS, time_left_ms);
}

std::string AddressPin::message(std::string curl_text) const {
    for (std::size_t at = curl_text.find(name_); at != std::string::npos;
         at = curl_text.find(name_, at + host_.size()))
        curl_text.replace(at, name_.size(), host_);
    return curl_text;
}

curl_socket_t AddressPin::on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address) {
    return open_pinned_socket(static_cast<const AddressPin*>(self)->addresses_, purpose, *address);
}

}  // namespace enconvert::outbound

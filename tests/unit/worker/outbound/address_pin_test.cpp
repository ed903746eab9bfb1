// The address pin of outbound transfers (webhooks, website discovery): the
// socket opener that keeps connections to the addresses the policy checked.
#include "outbound/address_pin.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

using namespace enconvert;

namespace {

// What curl hands the opener: a curl_sockaddr whose `addr` is followed by
// room for an IPv6 address (curl's own is a union with a sockaddr_storage).
struct SocketAddress {
    curl_sockaddr head{};
    sockaddr_in6 room{};
    const curl_sockaddr& get() const { return head; }
};

template <typename In>
SocketAddress make(int family, const In& in) {
    SocketAddress a;
    a.head.family = family;
    a.head.socktype = SOCK_STREAM;
    a.head.protocol = IPPROTO_TCP;
    a.head.addrlen = sizeof(In);
    std::memcpy(reinterpret_cast<unsigned char*>(&a) + offsetof(curl_sockaddr, addr), &in,
                sizeof in);
    return a;
}

SocketAddress v4(const char* text) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(443);
    inet_pton(AF_INET, text, &in.sin_addr);
    return make(AF_INET, in);
}

SocketAddress v6(const char* text) {
    sockaddr_in6 in{};
    in.sin6_family = AF_INET6;
    in.sin6_port = htons(443);
    inet_pton(AF_INET6, text, &in.sin6_addr);
    return make(AF_INET6, in);
}

}  // namespace

// Whatever curl resolved (a cache entry gone, a search domain's wildcard),
// a socket is opened only to an address the policy checked.
TEST(OpenPinnedSocket, OnlyACheckedAddressGetsASocket) {
    const std::vector<net::IpAddress> pinned{*net::IpAddress::parse("127.0.0.1"),
                                             *net::IpAddress::parse("2001:db8::1")};
    const curl_socket_t ok =
        outbound::open_pinned_socket(pinned, CURLSOCKTYPE_IPCXN, v4("127.0.0.1").get());
    ASSERT_NE(ok, CURL_SOCKET_BAD);
    close(ok);
    const curl_socket_t ok6 =
        outbound::open_pinned_socket(pinned, CURLSOCKTYPE_IPCXN, v6("2001:db8::1").get());
    ASSERT_NE(ok6, CURL_SOCKET_BAD);
    close(ok6);
    EXPECT_EQ(outbound::open_pinned_socket(pinned, CURLSOCKTYPE_IPCXN, v4("127.0.0.2").get()),
              CURL_SOCKET_BAD);
    EXPECT_EQ(outbound::open_pinned_socket(pinned, CURLSOCKTYPE_IPCXN, v6("::1").get()),
              CURL_SOCKET_BAD);
    EXPECT_EQ(
        outbound::open_pinned_socket(pinned, CURLSOCKTYPE_IPCXN, v6("::ffff:127.0.0.1").get()),
        CURL_SOCKET_BAD);
    EXPECT_EQ(outbound::open_pinned_socket({}, CURLSOCKTYPE_IPCXN, v4("127.0.0.1").get()),
              CURL_SOCKET_BAD);
    EXPECT_EQ(outbound::open_pinned_socket(pinned, CURLSOCKTYPE_ACCEPT, v4("127.0.0.1").get()),
              CURL_SOCKET_BAD);
}

// curl names the pinned name in its messages; readers see the URL's host.
TEST(AddressPin, MessagesNameTheUrlsHost) {
    const outbound::AddressPin pin("n7", "hooks.example.com", 443,
                                   {*net::IpAddress::parse("127.0.0.1")});
    EXPECT_EQ(pin.message("Failed to connect to n7.enconvert.invalid port 443 after 2 ms: "
                          "Couldn't connect to server"),
              "Failed to connect to hooks.example.com port 443 after 2 ms: "
              "Couldn't connect to server");
    EXPECT_EQ(pin.message("SSL certificate problem"), "SSL certificate problem");
}

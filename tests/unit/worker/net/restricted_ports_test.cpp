#include "net/restricted_ports.h"

#include <gtest/gtest.h>

namespace enconvert::net {
namespace {

TEST(RestrictedPorts, MailIrcAndX11AreRestricted) {
    for (int port : {1, 21, 22, 25, 110, 143, 465, 587, 993, 6000, 6667, 10080}) {
        EXPECT_TRUE(is_restricted_port(port)) << port;
    }
}

TEST(RestrictedPorts, WebPortsAreNot) {
    for (int port : {80, 443, 3000, 8000, 8080, 8443, 65535}) {
        EXPECT_FALSE(is_restricted_port(port)) << port;
    }
}

}  // namespace
}  // namespace enconvert::net

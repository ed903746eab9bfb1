#include "config/listen_endpoint.h"

#include <gtest/gtest.h>

using enconvert::config::ListenEndpoint;
using enconvert::config::parse_listen_endpoint;

TEST(ListenEndpoint, IpcAndTcpForms) {
    auto e = parse_listen_endpoint("ipc:///run/enconvert/worker.sock");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->transport, ListenEndpoint::Transport::ipc);

    for (const char* loopback : {"tcp://127.0.0.1:5555", "tcp://127.0.0.3:1", "tcp://[::1]:5555"}) {
        e = parse_listen_endpoint(loopback);
        ASSERT_TRUE(e) << loopback;
        EXPECT_EQ(e->transport, ListenEndpoint::Transport::tcp);
        EXPECT_TRUE(e->loopback) << loopback;
    }
    for (const char* open : {"tcp://10.0.0.5:5555", "tcp://0.0.0.0:5555", "tcp://*:5555",
                             "tcp://[2001:db8::1]:65535", "tcp://128.0.0.1:5555"}) {
        e = parse_listen_endpoint(open);
        ASSERT_TRUE(e) << open;
        EXPECT_FALSE(e->loopback) << open;
    }
}

TEST(ListenEndpoint, MalformedOnesAreRefused) {
    for (const char* bad : {"", "ipc://", "tcp://", "tcp://localhost:5555", "tcp://10.0.0.5",
                            "tcp://10.0.0.5:0", "tcp://10.0.0.5:65536", "tcp://::1:5555",
                            "tcp://eth0:5555", "inproc://x", "udp://1.2.3.4:5", "tcp://*:*"}) {
        EXPECT_FALSE(parse_listen_endpoint(bad)) << bad;
    }
}

// The worker's Xvfb lets on only the clients given its cookie. Without
// one, an X server accepts every local process (its abstract socket is
// shared by the whole host, a private /tmp or not), and any local user
// could read the screen that the views render other accounts' pages on.
#include "render/xvfb.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "../../support/x_client.h"

namespace enconvert::render {
namespace {

TEST(XvfbTest, AClientWithoutTheCookieIsRefused) {
    Xvfb xvfb;
    Connection c = connect_with(xvfb.display(), AuthEntry{});
    ASSERT_TRUE(c);
    EXPECT_NE(xcb_connection_has_error(c.get()), 0) << "a client with no cookie got on";
}

TEST(XvfbTest, AClientWithAWrongCookieIsRefused) {
    Xvfb xvfb;
    std::optional<AuthEntry> entry = first_entry(xvfb.authority());
    ASSERT_TRUE(entry);
    entry->data.back() ^= 1;
    Connection c = connect_with(xvfb.display(), *entry);
    ASSERT_TRUE(c);
    EXPECT_NE(xcb_connection_has_error(c.get()), 0);
}

TEST(XvfbTest, AClientWithTheCookieConnects) {
    Xvfb xvfb;
    std::optional<AuthEntry> entry = first_entry(xvfb.authority());
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->name, "MIT-MAGIC-COOKIE-1");
    EXPECT_EQ(entry->data.size(), 16u);
    Connection c = connect_with(xvfb.display(), *entry);
    ASSERT_TRUE(c);
    EXPECT_EQ(xcb_connection_has_error(c.get()), 0);
}

TEST(XvfbTest, EachServerHasACookieOfItsOwn) {
    Xvfb first;
    Xvfb second;
    EXPECT_NE(first.authority(), second.authority());
    std::optional<AuthEntry> a = first_entry(first.authority());
    std::optional<AuthEntry> b = first_entry(second.authority());
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->data, b->data);
    Connection c = connect_with(second.display(), *a);
    ASSERT_TRUE(c);
    EXPECT_NE(xcb_connection_has_error(c.get()), 0);
}

TEST(XvfbTest, TheCookieIsReadableByTheWorkersUserAlone) {
    Xvfb xvfb;
    struct stat file {};
    ASSERT_EQ(stat(xvfb.authority().c_str(), &file), 0);
    EXPECT_EQ(file.st_mode & 07777, 0600u);
    EXPECT_EQ(file.st_uid, geteuid());
    struct stat directory {};
    ASSERT_EQ(stat(xvfb.authority_directory().c_str(), &directory), 0);
    EXPECT_EQ(directory.st_mode & 07777, 0700u);
}

// With the renderers' cookies in its directory, also those a killed
// renderer could not remove (render_child/untrusted_display.h).
TEST(XvfbTest, TheCookiesGoWithTheServer) {
    std::string path, directory;
    {
        Xvfb xvfb;
        path = xvfb.authority();
        directory = xvfb.authority_directory();
        ASSERT_EQ(path.rfind(directory + "/", 0), 0u) << path;
        ASSERT_EQ(access(path.c_str(), F_OK), 0);
        std::ofstream(directory + "/Xauthority-of-a-killed-renderer") << "cookie";
    }
    EXPECT_NE(access(path.c_str(), F_OK), 0);
    EXPECT_NE(access(directory.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace enconvert::render

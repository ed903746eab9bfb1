// The renderer's untrusted X cookie for its web processes, against a real
// Xvfb: with the SECURITY extension (the worker's own Xvfb) and without it
// (an operator's display may lack it).
#include "render_child/untrusted_display.h"

#include <gtest/gtest.h>
// After gtest: Xlib's macros (None, Bool) break its headers.
#include <X11/Xlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../../support/x_client.h"
#include "render/x_authority.h"
#include "render/xvfb.h"

namespace enconvert::render_child {
namespace {

using render::AuthEntry;
using render::Xvfb;

struct DisplayCloser {
    void operator()(Display* d) const { XCloseDisplay(d); }
};

// The server's trusted connection, as the renderer has it.
std::unique_ptr<Display, DisplayCloser> open_trusted(const Xvfb& server) {
    setenv("XAUTHORITY", server.authority().c_str(), 1);
    return std::unique_ptr<Display, DisplayCloser>(XOpenDisplay(server.display().c_str()));
}

// Whether a client with the cookie of the authority file `path` may read
// the screen's pixels.
bool reads_the_screen(const std::string& display, const std::string& path) {
    const std::optional<AuthEntry> cookie = render::first_entry(path);
    if (!cookie) return false;
    render::Connection c = render::connect_with(display, *cookie);
    return c && !xcb_connection_has_error(c.get()) &&
           render::can_read_pixels(c.get(), render::root_window(c.get()));
}

TEST(UntrustedDisplayTest, MakesACookieThatCannotReadTheScreen) {
    Xvfb server;
    auto trusted = open_trusted(server);
    ASSERT_TRUE(trusted);
    const UntrustedAuthority untrusted = make_untrusted_authority(trusted.get(), "");
    ASSERT_TRUE(untrusted.file) << untrusted.error;
    EXPECT_TRUE(untrusted.holder);
    const std::optional<AuthEntry> server_cookie = render::first_entry(server.authority());
    const std::optional<AuthEntry> web_cookie = render::first_entry(untrusted.file->path());
    ASSERT_TRUE(server_cookie && web_cookie);
    EXPECT_NE(web_cookie->data, server_cookie->data);
    struct stat file {};
    ASSERT_EQ(stat(untrusted.file->path().c_str(), &file), 0);
    EXPECT_EQ(file.st_mode & 07777, 0600u);
    EXPECT_TRUE(reads_the_screen(server.display(), server.authority()));
    EXPECT_FALSE(reads_the_screen(server.display(), untrusted.file->path()));
}

TEST(UntrustedDisplayTest, WritesTheCookieInTheDirectoryItIsGiven) {
    Xvfb server;
    auto trusted = open_trusted(server);
    ASSERT_TRUE(trusted);
    const UntrustedAuthority untrusted =
        make_untrusted_authority(trusted.get(), server.authority_directory());
    ASSERT_TRUE(untrusted.file) << untrusted.error;
    EXPECT_EQ(untrusted.file->path().rfind(server.authority_directory() + "/", 0), 0u);
}

// A display without the extension: no cookie, and the reason why (the
// renderer then warns that its web processes are trusted clients).
TEST(UntrustedDisplayTest, ADisplayWithoutTheSecurityExtensionIsSaidSo) {
    Xvfb server({"-extension", "SECURITY"});
    auto trusted = open_trusted(server);
    ASSERT_TRUE(trusted);
    const UntrustedAuthority untrusted = make_untrusted_authority(trusted.get(), "");
    EXPECT_FALSE(untrusted.file);
    EXPECT_FALSE(untrusted.holder);
    EXPECT_NE(untrusted.error.find("SECURITY"), std::string::npos) << untrusted.error;
}

}  // namespace
}  // namespace enconvert::render_child

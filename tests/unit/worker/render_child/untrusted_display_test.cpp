// The renderer's untrusted X cookie for its web processes, against a real
// Xvfb: with the SECURITY extension (the worker's own Xvfb) and without it
// (an operator's display may lack it).
#include "render_child/untrusted_display.h"

#include <gtest/gtest.h>
// After gtest: Xlib's macros (None, Bool) break its headers.
#include <X11/Xlib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xcb/xcb.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "render/x_authority.h"

namespace enconvert::render_child {
namespace {

// An Xvfb of the test's own with a cookie, and `extra` arguments.
class TestXServer {
  public:
    explicit TestXServer(const std::vector<std::string>& extra) {
        std::vector<std::string> args{"Xvfb",  "-displayfd",   "3",       "-nolisten", "tcp",
                                      "-auth", cookie_.path(), "-screen", "0",         "64x64x24"};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        int fds[2];
        if (pipe(fds) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            if (dup2(fds[1], 3) < 0) _exit(127);
            execvp("Xvfb", argv.data());
            _exit(127);
        }
        close(fds[1]);
        FILE* in = fdopen(fds[0], "r");
        char line[32] = {};
        if (in && std::fgets(line, sizeof line, in))
            display_ = ":" + std::string(line, 0, std::string(line).find('\n'));
        if (in) std::fclose(in);
    }
    ~TestXServer() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    TestXServer(const TestXServer&) = delete;
    TestXServer& operator=(const TestXServer&) = delete;

    const std::string& display() const { return display_; }
    const render::XAuthorityFile& cookie() const { return cookie_; }

  private:
    render::XAuthorityFile cookie_;
    pid_t pid_ = -1;
    std::string display_;
};

struct DisplayCloser {
    void operator()(Display* d) const { XCloseDisplay(d); }
};

// The server's trusted connection, as the renderer has it.
std::unique_ptr<Display, DisplayCloser> open_trusted(const TestXServer& server) {
    setenv("XAUTHORITY", server.cookie().path().c_str(), 1);
    return std::unique_ptr<Display, DisplayCloser>(XOpenDisplay(server.display().c_str()));
}

// Whether a client with `cookie` may read the screen's pixels.
bool reads_the_screen(const std::string& display, const render::XAuthorityFile::Cookie& cookie) {
    std::string name = render::XAuthorityFile::kProtocol;
    std::vector<char> data(cookie.begin(), cookie.end());
    xcb_auth_info_t auth{static_cast<int>(name.size()), name.data(), static_cast<int>(data.size()),
                         data.data()};
    xcb_connection_t* c = xcb_connect_to_display_with_auth_info(display.c_str(), &auth, nullptr);
    bool read = false;
    if (!xcb_connection_has_error(c)) {
        const xcb_window_t root = xcb_setup_roots_iterator(xcb_get_setup(c)).data->root;
        xcb_get_image_reply_t* image = xcb_get_image_reply(
            c, xcb_get_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, root, 0, 0, 1, 1, ~0u), nullptr);
        read = image != nullptr;
        std::free(image);
    }
    xcb_disconnect(c);
    return read;
}

TEST(UntrustedDisplayTest, MakesACookieThatCannotReadTheScreen) {
    TestXServer server({});
    ASSERT_FALSE(server.display().empty());
    auto trusted = open_trusted(server);
    ASSERT_TRUE(trusted);
    const UntrustedAuthority untrusted = make_untrusted_authority(trusted.get(), "");
    ASSERT_TRUE(untrusted.file) << untrusted.error;
    EXPECT_TRUE(untrusted.holder);
    EXPECT_NE(untrusted.file->cookie(), server.cookie().cookie());
    struct stat file {};
    ASSERT_EQ(stat(untrusted.file->path().c_str(), &file), 0);
    EXPECT_EQ(file.st_mode & 07777, 0600u);
    EXPECT_TRUE(reads_the_screen(server.display(), server.cookie().cookie()));
    EXPECT_FALSE(reads_the_screen(server.display(), untrusted.file->cookie()));
}

TEST(UntrustedDisplayTest, WritesTheCookieInTheDirectoryItIsGiven) {
    TestXServer server({});
    auto trusted = open_trusted(server);
    ASSERT_TRUE(trusted);
    const UntrustedAuthority untrusted =
        make_untrusted_authority(trusted.get(), server.cookie().directory());
    ASSERT_TRUE(untrusted.file) << untrusted.error;
    EXPECT_EQ(untrusted.file->path().rfind(server.cookie().directory() + "/", 0), 0u);
}

// A display without the extension: no cookie, and the reason why (the
// renderer then warns that its web processes are trusted clients).
TEST(UntrustedDisplayTest, ADisplayWithoutTheSecurityExtensionIsSaidSo) {
    TestXServer server({"-extension", "SECURITY"});
    ASSERT_FALSE(server.display().empty());
    auto trusted = open_trusted(server);
    ASSERT_TRUE(trusted);
    const UntrustedAuthority untrusted = make_untrusted_authority(trusted.get(), "");
    EXPECT_FALSE(untrusted.file);
    EXPECT_FALSE(untrusted.holder);
    EXPECT_NE(untrusted.error.find("SECURITY"), std::string::npos) << untrusted.error;
}

}  // namespace
}  // namespace enconvert::render_child

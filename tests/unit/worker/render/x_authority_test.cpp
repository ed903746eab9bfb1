// The worker's X cookie lives in a directory of its own under $TMPDIR. A
// worker killed with SIGKILL cannot remove it; the next one to start
// removes such leftovers, and only those: never a directory whose maker
// still runs, another user's, or anything reached through a link.
#include "render/x_authority.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace enconvert::render {
namespace {

namespace fs = std::filesystem;

// Points $TMPDIR at a directory of the test's own for its lifetime.
class XAuthorityTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/x-authority-test-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        root_ = pattern;
        const char* before = getenv("TMPDIR");
        if (before) saved_ = before, had_ = true;
        setenv("TMPDIR", root_.c_str(), 1);
    }
    void TearDown() override {
        if (had_)
            setenv("TMPDIR", saved_.c_str(), 1);
        else
            unsetenv("TMPDIR");
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

    // A directory named as the worker names them, with a cookie-like file
    // in it, last changed `age_seconds` ago.
    std::string leftover(const std::string& name, int age_seconds) {
        const std::string path = root_ + "/" + name;
        EXPECT_TRUE(fs::create_directory(path));
        std::ofstream(path + "/Xauthority-abcdef") << "cookie";
        set_age(path, age_seconds);
        return path;
    }
    static void set_age(const std::string& path, int age_seconds) {
        timespec times[2];
        times[0].tv_sec = times[1].tv_sec = time(nullptr) - age_seconds;
        times[0].tv_nsec = times[1].tv_nsec = 0;
        ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
    }

    std::string root_;
    std::string saved_;
    bool had_ = false;
};

TEST_F(XAuthorityTest, TheDirectoryOfAKilledWorkerIsRemovedByTheNextOne) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(pipe_fds[0]);
        auto* file = new XAuthorityFile();  // never destroyed: SIGKILL below
        const std::string& directory = file->directory();
        if (write(pipe_fds[1], directory.data(), directory.size()) < 0) _exit(1);
        close(pipe_fds[1]);
        raise(SIGKILL);
        _exit(1);
    }
    close(pipe_fds[1]);
    char buffer[4096];
    std::string directory;
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) directory.append(buffer, n);
    close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT_EQ(directory.rfind(root_ + "/enconvert-x-", 0), 0u) << directory;
    ASSERT_TRUE(fs::exists(directory)) << "the killed process removed its directory";
    set_age(directory, 120);

    XAuthorityFile next;
    EXPECT_FALSE(fs::exists(directory)) << "the killed worker's cookie is still there";
    EXPECT_TRUE(fs::exists(next.path()));
}

TEST_F(XAuthorityTest, TheDirectoryOfARunningServerIsKept) {
    XAuthorityFile running;
    set_age(running.directory(), 3600);
    XAuthorityFile next;
    EXPECT_TRUE(fs::exists(running.path())) << "a live server's cookie was removed";
    EXPECT_NE(running.directory(), next.directory());
}

// Its maker may not have locked it yet: it does so right after creating it.
TEST_F(XAuthorityTest, ABrandNewUnlockedDirectoryIsKept) {
    const std::string young = leftover("enconvert-x-young1", 5);
    const std::string old = leftover("enconvert-x-old123", 120);
    XAuthorityFile next;
    EXPECT_TRUE(fs::exists(young + "/Xauthority-abcdef"));
    EXPECT_FALSE(fs::exists(old));
}

TEST_F(XAuthorityTest, OnlyDirectoriesNamedAsOursAreTouched) {
    const std::string other = leftover("enconvert-y-old123", 120);
    const std::string longer = leftover("enconvert-x-old1234", 120);
    XAuthorityFile next;
    EXPECT_TRUE(fs::exists(other + "/Xauthority-abcdef"));
    EXPECT_TRUE(fs::exists(longer + "/Xauthority-abcdef"));
}

TEST_F(XAuthorityTest, ALinkNamedAsOursIsNotFollowed) {
    const std::string target = leftover("elsewhere", 120);
    const std::string link = root_ + "/enconvert-x-link12";
    fs::create_directory_symlink(target, link);
    set_age(link, 120);
    XAuthorityFile next;
    EXPECT_TRUE(fs::exists(target + "/Xauthority-abcdef")) << "removed through a link";
}

TEST_F(XAuthorityTest, AnotherUsersDirectoryIsKept) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
    const std::string foreign = leftover("enconvert-x-other1", 120);
    ASSERT_EQ(chown(foreign.c_str(), 65534, 65534), 0);
    set_age(foreign, 120);
    XAuthorityFile next;
    EXPECT_TRUE(fs::exists(foreign + "/Xauthority-abcdef"));
}

}  // namespace
}  // namespace enconvert::render

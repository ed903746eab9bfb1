#include "render_child/worker_pipes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace enconvert::render_child {
namespace {

// What descriptor `fd` of this process refers to.
std::string target_of(int fd) {
    char target[256] = {};
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

// In a forked process whose stdin and stdout are pipes, as a renderer
// child's are: the pipes move to close-on-exec descriptors that still
// carry the frames, stdin becomes /dev/null and stdout a copy of stderr.
TEST(WorkerPipesTest, MovesTheFramePipesOffStdinAndStdout) {
    int to_child[2], from_child[2];
    ASSERT_EQ(pipe(to_child), 0);
    ASSERT_EQ(pipe(from_child), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (dup2(to_child[0], STDIN_FILENO) < 0 || dup2(from_child[1], STDOUT_FILENO) < 0) _exit(2);
        close(to_child[0]);
        close(to_child[1]);
        close(from_child[0]);
        close(from_child[1]);
        const std::string in_pipe = target_of(STDIN_FILENO);
        const std::string out_pipe = target_of(STDOUT_FILENO);
        const auto pipes = take_worker_pipes();
        if (!pipes) _exit(3);
        if (target_of(pipes->in) != in_pipe || target_of(pipes->out) != out_pipe) _exit(4);
        if (!(fcntl(pipes->in, F_GETFD) & FD_CLOEXEC) || !(fcntl(pipes->out, F_GETFD) & FD_CLOEXEC))
            _exit(5);
        if (target_of(STDIN_FILENO) != "/dev/null") _exit(6);
        if (target_of(STDOUT_FILENO) != target_of(STDERR_FILENO)) _exit(7);
        // The frames still flow both ways.
        char byte = 0;
        if (read(pipes->in, &byte, 1) != 1 || byte != 'q') _exit(8);
        if (write(pipes->out, "a", 1) != 1) _exit(9);
        _exit(0);
    }
    close(to_child[0]);
    close(from_child[1]);
    ASSERT_EQ(write(to_child[1], "q", 1), 1);
    char answer = 0;
    EXPECT_EQ(read(from_child[0], &answer, 1), 1);
    EXPECT_EQ(answer, 'a');
    close(to_child[1]);
    close(from_child[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace enconvert::render_child

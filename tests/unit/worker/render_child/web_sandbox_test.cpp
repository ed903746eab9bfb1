#include "render_child/web_sandbox.h"

#include <gtest/gtest.h>

namespace enconvert::render_child {
namespace {

TEST(WebSandboxTest, ModesAreOnOffAndAuto) {
    EXPECT_EQ(render::parse_sandbox_mode("on"), SandboxMode::on);
    EXPECT_EQ(render::parse_sandbox_mode("off"), SandboxMode::off);
    EXPECT_EQ(render::parse_sandbox_mode("auto"), SandboxMode::automatic);
    for (const char* bad : {"", "On", "true", "1", "automatic", "auto "})
        EXPECT_FALSE(render::parse_sandbox_mode(bad)) << bad;
}

TEST(WebSandboxTest, ABubblewrapThatCannotRunIsNamedWithItsReason) {
    const std::string missing = sandbox_unavailable("/nonexistent/bwrap");
    EXPECT_NE(missing.find("/nonexistent/bwrap"), std::string::npos) << missing;
    // Runs, but fails (as bwrap does where user namespaces are forbidden).
    const std::string failing = sandbox_unavailable("/bin/false");
    EXPECT_NE(failing.find("/bin/false"), std::string::npos) << failing;
}

TEST(WebSandboxTest, OnRefusesToRunWithoutIt) {
    const SandboxChoice available = choose_sandbox(SandboxMode::on, "");
    EXPECT_TRUE(available.enabled);
    EXPECT_TRUE(available.error.empty());
    const SandboxChoice missing = choose_sandbox(SandboxMode::on, "bwrap: no user namespaces");
    EXPECT_FALSE(missing.enabled);
    EXPECT_NE(missing.error.find("no user namespaces"), std::string::npos) << missing.error;
}

TEST(WebSandboxTest, AutoRunsWithoutItAndSaysSo) {
    EXPECT_TRUE(choose_sandbox(SandboxMode::automatic, "").enabled);
    EXPECT_TRUE(choose_sandbox(SandboxMode::automatic, "").warning.empty());
    const SandboxChoice missing =
        choose_sandbox(SandboxMode::automatic, "bwrap: no user namespaces");
    EXPECT_FALSE(missing.enabled);
    EXPECT_TRUE(missing.error.empty());
    EXPECT_NE(missing.warning.find("no user namespaces"), std::string::npos) << missing.warning;
}

TEST(WebSandboxTest, OffNeverSandboxes) {
    const SandboxChoice off = choose_sandbox(SandboxMode::off, "");
    EXPECT_FALSE(off.enabled);
    EXPECT_TRUE(off.warning.empty());
    EXPECT_TRUE(off.error.empty());
}

}  // namespace
}  // namespace enconvert::render_child

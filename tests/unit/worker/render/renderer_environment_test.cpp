#include "render/renderer_environment.h"

#include <gtest/gtest.h>

namespace enconvert::render {
namespace {

TEST(RendererEnvironment, PassesWhatTheEngineReadsAndNothingElse) {
    for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "XDG_RUNTIME_DIR",
                             "G_MESSAGES_DEBUG", "WEBKIT_DEBUG", "FONTCONFIG_FILE",
                             "CACHE_DIRECTORY", "ASAN_OPTIONS", "ENCONVERT_LOG_LEVEL"})
        EXPECT_TRUE(passes_to_renderer(name)) << name;
    for (const char* name :
         {"ENCONVERT_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
          "PGPASSWORD", "PGSERVICE", "CREDENTIALS_DIRECTORY", "https_proxy", "LD_PRELOAD",
          "NOTIFY_SOCKET", "API_TOKEN", "LC_", "XDG_", "PATHX", "path", ""})
        EXPECT_FALSE(passes_to_renderer(name)) << name;
}

TEST(RendererEnvironment, KeepsPassedVariablesAndTheChildsOwnWhichWin) {
    const char* parent[] = {"PATH=/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY=s3cr3t",
                            "DISPLAY=:7",         "LC_ALL=C.UTF-8",
                            "=nameless",          "no-equals-sign",
                            "PGPASSWORD=pw",      nullptr};
    const Environment env = renderer_environment(parent, {{"DISPLAY", ":99"}, {"EXTRA", "1"}});
    const Environment expected{
        {"PATH", "/usr/bin:/bin"}, {"LC_ALL", "C.UTF-8"}, {"DISPLAY", ":99"}, {"EXTRA", "1"}};
    EXPECT_EQ(env, expected);
}

TEST(RendererEnvironment, AnEmptyParentGivesTheChildsOwn) {
    const char* parent[] = {nullptr};
    EXPECT_EQ(renderer_environment(parent, {{"A", "b"}}), (Environment{{"A", "b"}}));
    EXPECT_EQ(renderer_environment(nullptr, {}), Environment{});
}

}  // namespace
}  // namespace enconvert::render

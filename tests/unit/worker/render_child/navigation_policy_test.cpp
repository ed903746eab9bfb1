#include "render_child/navigation_policy.h"

#include <gtest/gtest.h>

namespace enconvert::render_child {
namespace {

TEST(NavigationPolicy, HttpAndHttpsOnAllowedPortsAreAllowed) {
    EXPECT_FALSE(refused_navigation("http://example.org/"));
    EXPECT_FALSE(refused_navigation("https://example.org:8443/a?b"));
    EXPECT_FALSE(refused_navigation("about:blank"));
}

TEST(NavigationPolicy, OtherSchemesAreBlockedAddresses) {
    const auto file = refused_navigation("file:///etc/passwd");
    ASSERT_TRUE(file);
    EXPECT_EQ(file->code, "blocked_address");
    EXPECT_NE(file->message.find("file: URL"), std::string::npos) << file->message;
    ASSERT_TRUE(refused_navigation("ftp://example.org/"));
    EXPECT_EQ(refused_navigation("ftp://example.org/")->code, "blocked_address");
}

TEST(NavigationPolicy, RestrictedPortsFailToConnect) {
    const auto smtp = refused_navigation("http://example.org:25/");
    ASSERT_TRUE(smtp);
    EXPECT_EQ(smtp->code, "connection_failed");
    EXPECT_FALSE(refused_navigation("http://example.org:8080/"));
}

TEST(NavigationPolicy, SameOriginComparesSchemeHostAndPort) {
    EXPECT_TRUE(same_origin("http://example.org/a", "http://example.org/b?c"));
    EXPECT_TRUE(same_origin("http://Example.ORG:80/", "http://example.org/x"));
    EXPECT_TRUE(same_origin("https://example.org:443/", "https://example.org/"));
    EXPECT_TRUE(same_origin("http://127.0.0.1:25/", "http://127.0.0.1:25/z"));
    EXPECT_FALSE(same_origin("http://example.org/", "https://example.org/"));
    EXPECT_FALSE(same_origin("http://example.org:8080/", "http://example.org/"));
    EXPECT_FALSE(same_origin("http://example.org/", "http://example.net/"));
    // The view's reset leaves a file: base URL behind: never the job's.
    EXPECT_FALSE(same_origin("file:///", "http://127.0.0.1:8080/missing.pdf"));
    EXPECT_FALSE(same_origin("not a url", "not a url"));
}

}  // namespace
}  // namespace enconvert::render_child

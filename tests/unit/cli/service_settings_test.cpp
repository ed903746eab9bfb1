#include "service_settings.h"

#include <gtest/gtest.h>

#include <map>

#include "cli_error.h"

using namespace enconvert::cli;

namespace {

const std::string kKey = "sk_live_" + std::string(40, 'a');

ServiceSettings settings_with(std::map<std::string, std::string> env) {
    return settings_from_environment([&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

ExitCode failure_of(std::map<std::string, std::string> env) {
    try {
        settings_with(std::move(env));
    } catch (const CliError& e) {
        return e.code();
    }
    return ExitCode::ok;
}

}  // namespace

TEST(ServiceSettings, DefaultsToTheLocalStack) {
    const auto settings = settings_with({{"ENCONVERT_API_KEY", kKey}});
    EXPECT_EQ(settings.base_url, "http://127.0.0.1:8080");
    EXPECT_EQ(settings.api_key, kKey);
    EXPECT_EQ(settings_with({{"ENCONVERT_API_KEY", kKey}, {"ENCONVERT_URL", ""}}).base_url,
              "http://127.0.0.1:8080");
}

TEST(ServiceSettings, BaseUrlKeepsItsPrefixWithoutTrailingSlash) {
    EXPECT_EQ(normalized_base_url("https://api.example.com/"), "https://api.example.com");
    EXPECT_EQ(normalized_base_url("https://api.example.com:8443/enconvert//"),
              "https://api.example.com:8443/enconvert");
    EXPECT_EQ(normalized_base_url("HTTP://Example.com"), "http://Example.com");
}

TEST(ServiceSettings, ApiUrlsAppendTheRoute) {
    ServiceSettings settings{"https://api.example.com/enconvert", kKey};
    EXPECT_EQ(api_url(settings, "v1/convert/url-to-pdf"),
              "https://api.example.com/enconvert/v1/convert/url-to-pdf");
}

TEST(ServiceSettings, MissingOrImpossibleKeyIsAnAuthenticationError) {
    EXPECT_EQ(failure_of({}), ExitCode::authentication);
    EXPECT_EQ(failure_of({{"ENCONVERT_API_KEY", ""}}), ExitCode::authentication);
    EXPECT_EQ(failure_of({{"ENCONVERT_API_KEY", "sk_live_a\r\nX-Evil: 1"}}),
              ExitCode::authentication);
    EXPECT_EQ(failure_of({{"ENCONVERT_API_KEY", "sk_live_a b"}}), ExitCode::authentication);
}

TEST(ServiceSettings, UnusableUrlIsAUsageError) {
    for (const char* url :
         {"127.0.0.1:8080", "ftp://example.com", "https://", "not a url",
          "https://example.com/?x=1", "https://example.com/#top", "https://user:pw@example.com",
          // a password without a user name: it was kept, and printed in the
          // "or GET …" hint on stderr
          "https://:secret@example.com"}) {
        EXPECT_EQ(failure_of({{"ENCONVERT_API_KEY", kKey}, {"ENCONVERT_URL", url}}),
                  ExitCode::usage)
            << url;
    }
}

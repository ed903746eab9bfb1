#include "intake/fingerprint.h"

#include <gtest/gtest.h>

using namespace enconvert;
using nlohmann::json;

namespace {

intake::ConvertRequest base() {
    intake::ConvertRequest r;
    r.key = "sk_live_a";
    r.base_url = "https://api.example.com";
    r.endpoint = "url-to-pdf";
    r.urls = {"https://example.com/a"};
    r.options = json::parse(R"({"viewport_width": 800,
        "pdf_options": {"margins": {"top": 5, "left": 2}, "scale": 1.5}})");
    return r;
}

}  // namespace

TEST(Fingerprint, IsLowercaseHexSha256) {
    const std::string f = intake::request_fingerprint(base());
    EXPECT_EQ(f.size(), 64u);
    EXPECT_EQ(f.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Fingerprint, MemberOrderDoesNotMatter) {
    auto reordered = base();
    reordered.options = json::parse(R"({"pdf_options": {"scale": 1.5,
        "margins": {"left": 2, "top": 5}}, "viewport_width": 800})");
    EXPECT_EQ(intake::request_fingerprint(base()), intake::request_fingerprint(reordered));
}

TEST(Fingerprint, KeyAndHostDoNotMatter) {
    auto other = base();
    other.key = "sk_live_b";  // keys are scoped per account anyway
    other.base_url = "http://localhost:8080";
    other.idempotency_key = "k";
    EXPECT_EQ(intake::request_fingerprint(base()), intake::request_fingerprint(other));
}

TEST(Fingerprint, EveryPartOfTheRequestMatters) {
    const std::string ref = intake::request_fingerprint(base());
    auto r = base();
    r.endpoint = "url-to-screenshot";
    EXPECT_NE(intake::request_fingerprint(r), ref);
    r = base();
    r.urls = {"https://example.com/b"};
    EXPECT_NE(intake::request_fingerprint(r), ref);
    r = base();
    r.urls.push_back("https://example.com/a");
    EXPECT_NE(intake::request_fingerprint(r), ref);
    r = base();
    r.batch = true;
    EXPECT_NE(intake::request_fingerprint(r), ref);
    r = base();
    r.async = true;
    EXPECT_NE(intake::request_fingerprint(r), ref);
    r = base();
    r.options["pdf_options"]["margins"]["top"] = 6;  // nested value
    EXPECT_NE(intake::request_fingerprint(r), ref);
    r = base();
    r.options["direct_download"] = true;
    EXPECT_NE(intake::request_fingerprint(r), ref);
}

TEST(Fingerprint, UrlOrderMatters) {
    auto a = base();
    a.batch = true;
    a.urls = {"https://1.example", "https://2.example"};
    auto b = a;
    b.urls = {"https://2.example", "https://1.example"};
    EXPECT_NE(intake::request_fingerprint(a), intake::request_fingerprint(b));
}

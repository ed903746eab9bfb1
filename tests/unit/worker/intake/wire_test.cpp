#include "intake/wire.h"

#include <gtest/gtest.h>

using namespace enconvert::intake;
using nlohmann::json;

namespace {

std::string pack(const json& j) {
    const auto bytes = json::to_msgpack(j);
    return std::string(bytes.begin(), bytes.end());
}

json good_convert() {
    return json{
        {"v", 1},
        {"id", 42},
        {"op", "convert"},
        {"key", "sk_live_x"},
        {"base_url", "https://api.example.com"},
        {"endpoint", "url-to-pdf"},
        {"urls", json::array({"https://example.com"})},
        {"batch", false},
        {"async", true},
        {"options", json{{"notification_email", "a@b.c"}, {"pdf_options", {{"scale", 1.5}}}}}};
}

DecodeError expect_error(const std::string& frame) {
    auto r = decode_request(frame);
    EXPECT_TRUE(std::holds_alternative<DecodeError>(r));
    if (auto* e = std::get_if<DecodeError>(&r)) return *e;
    return {};
}

}  // namespace

TEST(Wire, DecodesConvert) {
    json msg = good_convert();
    msg["idempotency_key"] = "abc";
    msg["unknown_future_key"] = 7;  // ignored (forward compatibility)
    auto r = decode_request(pack(msg));
    ASSERT_TRUE(std::holds_alternative<Request>(r));
    const Request& req = std::get<Request>(r);
    EXPECT_EQ(req.id, 42u);
    const auto& c = std::get<ConvertRequest>(req.body);
    EXPECT_EQ(c.key, "sk_live_x");
    EXPECT_EQ(c.endpoint, "url-to-pdf");
    EXPECT_EQ(c.urls, std::vector<std::string>{"https://example.com"});
    EXPECT_TRUE(c.async);
    EXPECT_FALSE(c.batch);
    EXPECT_EQ(c.options["pdf_options"]["scale"], 1.5);
    EXPECT_EQ(c.idempotency_key, "abc");
}

TEST(Wire, DecodesStatusAndHealth) {
    auto r = decode_request(pack(json{{"v", 1},
                                      {"id", 1},
                                      {"op", "status"},
                                      {"key", "k"},
                                      {"base_url", "http://h"},
                                      {"job_id", "job_1"}}));
    ASSERT_TRUE(std::holds_alternative<Request>(r));
    EXPECT_EQ(std::get<StatusRequest>(std::get<Request>(r).body).job_id, "job_1");
    auto h = decode_request(pack(json{{"v", 1}, {"id", 2}, {"op", "health"}}));
    ASSERT_TRUE(std::holds_alternative<Request>(h));
    EXPECT_TRUE(std::holds_alternative<HealthRequest>(std::get<Request>(h).body));
}

TEST(Wire, MissingFieldNamesIt) {
    json msg = good_convert();
    msg.erase("urls");
    const DecodeError e = expect_error(pack(msg));
    EXPECT_EQ(e.id, 42u);
    EXPECT_NE(e.detail.find("urls"), std::string::npos);
}

TEST(Wire, WrongTypesAreRejected) {
    for (const char* field : {"batch", "async", "key", "options", "urls"}) {
        json msg = good_convert();
        msg[field] = 12;
        const DecodeError e = expect_error(pack(msg));
        EXPECT_EQ(e.id, 42u) << field;
        EXPECT_NE(e.detail.find(field), std::string::npos) << field << ": " << e.detail;
    }
    json msg = good_convert();
    msg["urls"] = json::array({"https://ok", 5});
    EXPECT_NE(expect_error(pack(msg)).detail.find("urls[1]"), std::string::npos);
    msg["urls"] = json::array({"ftp://x"});
    EXPECT_NE(expect_error(pack(msg)).detail.find("urls[0]"), std::string::npos);
    msg["urls"] = json::array();
    EXPECT_NE(expect_error(pack(msg)).detail.find("urls"), std::string::npos);
    msg = good_convert();
    msg["endpoint"] = "url-to-doc";
    EXPECT_NE(expect_error(pack(msg)).detail.find("endpoint"), std::string::npos);
}

TEST(Wire, WebsiteEndpointsTakeTheirOneStartUrl) {
    for (const char* endpoint : {"website-to-pdf", "website-to-screenshot"}) {
        json msg = good_convert();
        msg["endpoint"] = endpoint;
        msg["urls"] = json::array({"https://example.com/docs/"});
        msg["options"] = json{{"crawl_mode", "full"}, {"include_patterns", {"^/docs/"}}};
        auto r = decode_request(pack(msg));
        ASSERT_TRUE(std::holds_alternative<Request>(r)) << endpoint;
        const auto& c = std::get<ConvertRequest>(std::get<Request>(r).body);
        EXPECT_EQ(c.endpoint, endpoint);
        EXPECT_EQ(c.urls, std::vector<std::string>{"https://example.com/docs/"});
        EXPECT_EQ(c.options["crawl_mode"], "full");

        // A site is captured from one start URL: two are refused, naming urls.
        msg["urls"] = json::array({"https://example.com/", "https://example.org/"});
        const DecodeError e = expect_error(pack(msg));
        EXPECT_EQ(e.id, 42u) << endpoint;
        EXPECT_NE(e.detail.find("urls"), std::string::npos) << endpoint << ": " << e.detail;
        msg["urls"] = json::array();
        EXPECT_NE(expect_error(pack(msg)).detail.find("urls"), std::string::npos) << endpoint;
        msg["urls"] = json::array({"ftp://example.com/"});
        EXPECT_NE(expect_error(pack(msg)).detail.find("urls[0]"), std::string::npos) << endpoint;
    }
    // Several URLs stay fine for the other endpoints.
    json msg = good_convert();
    msg["urls"] = json::array({"https://example.com/", "https://example.org/"});
    msg["batch"] = true;
    EXPECT_TRUE(std::holds_alternative<Request>(decode_request(pack(msg))));
    // An endpoint that only looks like one is still refused.
    msg = good_convert();
    msg["endpoint"] = "website-to-doc";
    EXPECT_NE(expect_error(pack(msg)).detail.find("endpoint"), std::string::npos);
}

TEST(Wire, WrongVersionIsRejected) {
    json msg = good_convert();
    msg["v"] = 2;
    const DecodeError e = expect_error(pack(msg));
    EXPECT_EQ(e.id, 42u);
    EXPECT_NE(e.detail.find("version"), std::string::npos);
    msg.erase("v");
    EXPECT_EQ(expect_error(pack(msg)).id, 42u);
}

TEST(Wire, NoIdMeansNoReply) {
    json msg = good_convert();
    msg.erase("id");
    EXPECT_FALSE(expect_error(pack(msg)).id.has_value());
    msg["id"] = -1;
    EXPECT_FALSE(expect_error(pack(msg)).id.has_value());
    msg["id"] = "7";
    EXPECT_FALSE(expect_error(pack(msg)).id.has_value());
}

TEST(Wire, GarbageFramesDoNotCrash) {
    EXPECT_FALSE(expect_error("").id.has_value());
    EXPECT_FALSE(expect_error("\xc1\xff\x00garbage").id.has_value());
    EXPECT_FALSE(expect_error(pack(json::array({1, 2}))).id.has_value());
    // A map truncated in the middle.
    std::string frame = pack(good_convert());
    frame.resize(frame.size() / 2);
    EXPECT_FALSE(expect_error(frame).id.has_value());
}

TEST(Wire, UnknownOpAndBadOptions) {
    EXPECT_NE(expect_error(pack(json{{"v", 1}, {"id", 3}, {"op", "delete"}})).detail.find("op"),
              std::string::npos);
    json msg = good_convert();
    msg["options"] = json{{"blob", json::binary({1, 2, 3})}};
    EXPECT_NE(expect_error(pack(msg)).detail.find("options.blob"), std::string::npos);
    json deep = 1;
    for (int i = 0; i < 12; ++i) deep = json{{"d", deep}};
    msg["options"] = deep;
    EXPECT_NE(expect_error(pack(msg)).detail.find("deep"), std::string::npos);
}

// make fuzz (docs/fuzzing.md): nlohmann's msgpack reader recursed once per
// nesting level, so a million nested arrays overflowed the stack.
TEST(Wire, DeeplyNestedFrameIsAnErrorNotACrash) {
    std::string frame = std::string("\x82", 1) + "\xa2id" + "\x05" + "\xa7options";
    frame += std::string(1000000, '\x91') + std::string("\xc0", 1);
    const DecodeError e = expect_error(frame);
    EXPECT_FALSE(e.id.has_value());
    EXPECT_NE(e.detail.find("nested too deeply"), std::string::npos) << e.detail;
    // As deep as a valid request gets is fine.
    json msg = good_convert();
    json deep = 1;
    for (int i = 0; i < 6; ++i) deep = json::array({deep});
    msg["options"] = json{{"d", deep}};
    EXPECT_TRUE(std::holds_alternative<Request>(decode_request(pack(msg))));
}

// make fuzz (docs/fuzzing.md): the module accepts the scheme in any case
// (docs/validation.md), the worker refused all but lowercase.
TEST(Wire, SchemeInAnyCaseAccepted) {
    json msg = good_convert();
    msg["urls"] = json::array({"HTTPS://example.com/", "hTtp://10.1/"});
    auto r = decode_request(pack(msg));
    ASSERT_TRUE(std::holds_alternative<Request>(r));
    EXPECT_EQ(std::get<ConvertRequest>(std::get<Request>(r).body).urls[1], "hTtp://10.1/");
    msg["urls"] = json::array({"ftp://example.com/"});
    EXPECT_NE(expect_error(pack(msg)).detail.find("urls[0]"), std::string::npos);
}

// make fuzz (docs/fuzzing.md): a string that is not UTF-8 was accepted and
// made storing the job throw (a 500) instead of a bad-message answer.
TEST(Wire, InvalidUtf8IsRefused) {
    json msg = good_convert();
    msg["options"] = json{{"output_filename", std::string("a\xff"
                                                          "b.pdf")}};
    const DecodeError e = expect_error(pack(msg));
    EXPECT_EQ(e.id, std::optional<std::uint64_t>(42));
    EXPECT_NE(e.detail.find("UTF-8"), std::string::npos) << e.detail;
    msg = good_convert();
    msg["urls"] = json::array({std::string("https://example.com/\xc3")});
    EXPECT_NE(expect_error(pack(msg)).detail.find("UTF-8"), std::string::npos);
}

// PostgreSQL's text and jsonb refuse NUL: a request holding one was stored,
// failed (500) and sent its whole group commit job by job.
TEST(Wire, NulInAnyStringIsRefused) {
    json msg = good_convert();
    msg["options"] = json{{"output_filename", std::string("a\0b.pdf", 7)}};
    DecodeError e = expect_error(pack(msg));
    EXPECT_EQ(e.id, std::optional<std::uint64_t>(42));
    EXPECT_NE(e.detail.find("NUL"), std::string::npos) << e.detail;
    msg = good_convert();
    msg["options"] = json{{std::string("k\0", 2), "v"}};
    EXPECT_NE(expect_error(pack(msg)).detail.find("NUL"), std::string::npos);
    msg = good_convert();
    msg["urls"] = json::array({std::string("https://example.com/\0", 21)});
    EXPECT_NE(expect_error(pack(msg)).detail.find("NUL"), std::string::npos);
    msg = good_convert();
    msg["options"] = json{{"output_filename", "a\\u0000b.pdf"}};  // the text, not the byte
    EXPECT_TRUE(std::holds_alternative<Request>(decode_request(pack(msg))));
}

TEST(Wire, SignedSmallIntsAccepted) {
    // Some msgpack writers use int8 (0xd0) for small numbers.
    // {"v": int8 1, "id": int8 5, "op": "health"}, built by hand.
    const std::string manual = std::string("\x83", 1) + "\xa1v" + std::string("\xd0\x01", 2) +
                               "\xa2id" + std::string("\xd0\x05", 2) + "\xa2op" + "\xa6health";
    auto r = decode_request(manual);
    ASSERT_TRUE(std::holds_alternative<Request>(r));
    EXPECT_EQ(std::get<Request>(r).id, 5u);
}

TEST(Wire, EncodeAccepted) {
    const std::string bytes = encode_accepted(9, "job_abc");
    const json j = json::from_msgpack(bytes);
    EXPECT_EQ(j, (json{{"v", 1}, {"id", 9}, {"kind", "accepted"}, {"job_id", "job_abc"}}));
}

TEST(Wire, EncodeAcceptedWithWhereNotificationsGo) {
    const json j = json::from_msgpack(encode_accepted(9, "job_abc", "Results will be sent."));
    EXPECT_EQ(j["notice"], "Results will be sent.");
}

TEST(Wire, EncodeStoppingNamesNoRequest) {
    EXPECT_EQ(json::from_msgpack(encode_stopping()),
              (json{{"v", 1}, {"id", 0}, {"kind", "stopping"}}));
}

TEST(Wire, EncodeFinalWithBodyAndHeaders) {
    enconvert::api::HttpAnswer a;
    a.status = 503;
    a.headers = {{"Retry-After", "5"}};
    a.body = "{\"x\":1}";
    const json j = json::from_msgpack(encode_final(9, a, std::string("job_1")));
    EXPECT_EQ(j["v"], 1);
    EXPECT_EQ(j["id"], 9);
    EXPECT_EQ(j["kind"], "final");
    EXPECT_EQ(j["status"], 503);
    EXPECT_EQ(j["content_type"], "application/json");
    EXPECT_EQ(j["job_id"], "job_1");
    EXPECT_EQ(j["headers"], json::array({json::array({"Retry-After", "5"})}));
    ASSERT_TRUE(j["body"].is_binary());
    const auto& bin = j["body"].get_binary();
    EXPECT_EQ(std::string(bin.begin(), bin.end()), "{\"x\":1}");
    EXPECT_FALSE(j.contains("internal_redirect"));
}

TEST(Wire, EncodeFinalRedirectHasNoBody) {
    enconvert::api::HttpAnswer a;
    a.internal_redirect = "live/files/a/url-to-pdf/x.pdf";
    const json j = json::from_msgpack(encode_final(1, a));
    EXPECT_EQ(j["internal_redirect"], "live/files/a/url-to-pdf/x.pdf");
    EXPECT_FALSE(j.contains("body"));
    EXPECT_FALSE(j.contains("job_id"));
}

TEST(Wire, EncodeFinalCarriesTheStatusCacheHint) {
    enconvert::api::HttpAnswer a;
    a.body = "{}";
    EXPECT_FALSE(json::from_msgpack(encode_final(1, a)).contains("cache"));
    a.cache = enconvert::api::StatusCacheHint{
        1'800'000'000, 3600, {{10, 40, 120, 12}, {200, 41, 121, 13}}};
    const json j = json::from_msgpack(encode_final(1, a));
    EXPECT_EQ(j["cache"]["until"], 1'800'000'000);
    EXPECT_EQ(j["cache"]["link_ttl"], 3600);
    EXPECT_EQ(j["cache"]["links"], json::parse("[[10,40,120,12],[200,41,121,13]]"));
}

#include "notify/retry_policy.h"

#include <gtest/gtest.h>

#include <vector>

#include "notify/webhook_signature.h"

using namespace enconvert::notify;
namespace db = enconvert::db;

TEST(RetryPolicyTest, NoRetriesByDefault) {
    AttemptOutcome o;
    o.error = "http_status: the receiver answered 500";
    o.response_code = 500;
    const db::DeliveryRecord r = decide(7, o, 1, 0, 0.5);
    EXPECT_EQ(r.state, db::DeliveryRecord::State::failed);
    EXPECT_EQ(r.response_code, 500);
    EXPECT_EQ(r.error, o.error);
}

TEST(RetryPolicyTest, DeliveredIsFinal) {
    AttemptOutcome o;
    o.delivered = true;
    o.response_code = 204;
    const db::DeliveryRecord r = decide(7, o, 1, 5, 0.5);
    EXPECT_EQ(r.state, db::DeliveryRecord::State::delivered);
    EXPECT_FALSE(r.error);
}

TEST(RetryPolicyTest, ExponentialBackoffWithJitterAndLimit) {
    AttemptOutcome o;
    o.error = "timeout";
    EXPECT_EQ(decide(1, o, 1, 2, 0.0).retry_after.count(), 15);    // 30 s * 0.5
    EXPECT_EQ(decide(1, o, 2, 2, 0.999).retry_after.count(), 60);  // ~60 s * 1
    EXPECT_EQ(decide(1, o, 2, 2, 0.0).state, db::DeliveryRecord::State::retry);
    EXPECT_EQ(decide(1, o, 3, 2, 0.0).state, db::DeliveryRecord::State::failed);
    EXPECT_LE(decide(1, o, 20, 30, 0.999).retry_after.count(), 3600);
}

TEST(RetryPolicyTest, RetryAfterWinsAndPermanentNeverRetries) {
    AttemptOutcome o;
    o.error = "http_status: the receiver answered 503";
    o.retry_after = std::chrono::seconds(120);
    EXPECT_EQ(decide(1, o, 1, 3, 0.0).retry_after.count(), 120);
    o.permanent = true;
    EXPECT_EQ(decide(1, o, 1, 3, 0.0).state, db::DeliveryRecord::State::failed);
}

TEST(RetryPolicyTest, ParsesRetryAfter) {
    EXPECT_EQ(parse_retry_after("120", 0)->count(), 120);
    EXPECT_EQ(parse_retry_after(" 5\r\n", 0)->count(), 5);
    // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30)->count(), 30);
    EXPECT_FALSE(parse_retry_after("soon", 0));
}

TEST(WebhookSignatureTest, MatchesStandardWebhooksReference) {
    // Test vector from the Standard Webhooks reference libraries.
    const auto h = standard_webhook_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                            "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                            R"({"test": 2432232314})");
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].first, "webhook-id");
    EXPECT_EQ(h[0].second, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    EXPECT_EQ(h[1].second, "1614265330");
    EXPECT_EQ(h[2].first, "webhook-signature");
    EXPECT_EQ(h[2].second, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

// whsec_ with nothing after it is an empty HMAC key: a signature anyone
// can make. Refused like malformed base64 (the notifier answers
// invalid_secret and sends nothing).
TEST(WebhookSignatureTest, AnEmptyKeyIsRefused) {
    EXPECT_THROW(standard_webhook_headers("whsec_", "msg_1", 1, "{}"), std::invalid_argument);
    EXPECT_THROW(standard_webhook_headers("", "msg_1", 1, "{}"), std::invalid_argument);
    EXPECT_THROW(standard_webhook_headers("whsec_!!!!", "msg_1", 1, "{}"), std::invalid_argument);
}

TEST(WebhookSignatureTest, Base64RoundTrip) {
    for (const std::string& s :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    }
    EXPECT_THROW(base64_decode("abc"), std::invalid_argument);
}

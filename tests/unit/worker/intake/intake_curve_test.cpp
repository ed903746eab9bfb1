// The intake with CURVE on a loopback tcp:// endpoint: only a DEALER whose
// client key is listed is answered; one with another key, or without CURVE,
// never gets through the handshake.
#include <gtest/gtest.h>

#include <thread>

#include "../db/pg_fixture.h"
#include "config/curve_keys.h"
#include "intake/intake.h"

using namespace enconvert;
using nlohmann::json;

namespace {

class IntakeCurveTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        server_ = config::generate_curve_keypair();
        client_ = config::generate_curve_keypair();
        // "*": a free port, which last_endpoint() names
        intake::IntakeOptions options{"tcp://127.0.0.1:*", url(), std::chrono::seconds(60)};
        options.curve_secret_key = server_.secret_key;
        options.curve_allowed_clients = {client_.public_key};
        intake_ =
            std::make_unique<intake::Intake>(ctx_, options, storage::Presigner("secret", "", 3600));
        endpoint_ = intake_->last_endpoint();
        thread_ = std::thread([this] { intake_->run(stop_); });
    }
    void TearDown() override {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        intake_.reset();
    }

    // A DEALER with `keys` as its CURVE client keypair (none: plain).
    zmq::socket_t dealer(const config::CurveKeyPair* keys) {
        zmq::socket_t s(ctx_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::linger, 0);
        s.set(zmq::sockopt::rcvtimeo, 1500);
        if (keys) {
            s.set(zmq::sockopt::curve_serverkey, server_.public_key);
            s.set(zmq::sockopt::curve_publickey, keys->public_key);
            s.set(zmq::sockopt::curve_secretkey, keys->secret_key);
        }
        s.connect(endpoint_);
        return s;
    }
    static bool health_answered(zmq::socket_t& s) {
        const auto bytes = json::to_msgpack(json{{"v", 1}, {"id", 1}, {"op", "health"}});
        (void)s.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
        zmq::message_t m;
        return s.recv(m).has_value();
    }

    zmq::context_t ctx_{1};
    config::CurveKeyPair server_, client_;
    std::unique_ptr<intake::Intake> intake_;
    std::string endpoint_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace

TEST_F(IntakeCurveTest, ListedClientIsAnswered) {
    auto s = dealer(&client_);
    EXPECT_TRUE(health_answered(s));
}

TEST_F(IntakeCurveTest, UnlistedClientIsRefused) {
    const auto stranger = config::generate_curve_keypair();
    auto s = dealer(&stranger);
    EXPECT_FALSE(health_answered(s));
    // The listed one still gets in afterwards.
    auto ok = dealer(&client_);
    EXPECT_TRUE(health_answered(ok));
}

TEST_F(IntakeCurveTest, PlainClientIsRefused) {
    auto s = dealer(nullptr);
    EXPECT_FALSE(health_answered(s));
}

TEST_F(IntakeCurveTest, ClientExpectingAnotherServerKeyGetsNothing) {
    // An impostor worker (another server key) is not trusted by the client:
    // here, the client expects a key this server does not hold.
    const auto other_server = config::generate_curve_keypair();
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::rcvtimeo, 1500);
    s.set(zmq::sockopt::curve_serverkey, other_server.public_key);
    s.set(zmq::sockopt::curve_publickey, client_.public_key);
    s.set(zmq::sockopt::curve_secretkey, client_.secret_key);
    s.connect(endpoint_);
    EXPECT_FALSE(health_answered(s));
}

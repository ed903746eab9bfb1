// The intake thread over a real ROUTER socket and PostgreSQL: a DEALER plays
// the nginx module.
#include "intake/intake.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "../db/pg_fixture.h"
#include "admin/key_command.h"
#include "db/job_repository.h"

using namespace enconvert;
using nlohmann::json;

namespace {

class IntakeTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        std::ostringstream out;
        key_ = admin::create_key(*conn_, "acme", out);
        char tmpl[] = "/tmp/enconvert-intake-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        sock_dir_ = tmpl;
        endpoint_ = "ipc://" + sock_dir_ + "/worker.sock";
        intake_ = std::make_unique<intake::Intake>(
            ctx_, intake::IntakeOptions{endpoint_, url(), std::chrono::seconds(60)},
            storage::Presigner("secret", "", 3600));
        thread_ = std::thread([this] { intake_->run(stop_); });
        dealer_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
        dealer_.set(zmq::sockopt::linger, 0);
        dealer_.set(zmq::sockopt::rcvtimeo, 5000);
        dealer_.connect(endpoint_);
    }
    void TearDown() override {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        dealer_.close();
        intake_.reset();
        std::error_code ec;
        if (!sock_dir_.empty()) std::filesystem::remove_all(sock_dir_, ec);
    }

    void send(const json& msg) {
        const auto bytes = json::to_msgpack(msg);
        dealer_.send(zmq::buffer(bytes));
    }
    json recv() {
        zmq::message_t m;
        if (!dealer_.recv(m)) return json();
        return json::from_msgpack(static_cast<const std::uint8_t*>(m.data()),
                                  static_cast<const std::uint8_t*>(m.data()) + m.size());
    }
    static json body(const json& reply) {
        const auto& b = reply["body"].get_binary();
        return json::parse(std::string(b.begin(), b.end()));
    }
    json convert_msg(int id, bool async) {
        return json{{"v", 1},
                    {"id", id},
                    {"op", "convert"},
                    {"key", key_},
                    {"base_url", "http://localhost:8080"},
                    {"endpoint", "url-to-pdf"},
                    {"urls", {"https://example.com"}},
                    {"batch", false},
                    {"async", async},
                    {"options", json::object()}};
    }

    zmq::context_t ctx_{1};
    std::unique_ptr<pqxx::connection> conn_;
    std::string key_;
    std::string sock_dir_;
    std::string endpoint_;
    std::unique_ptr<intake::Intake> intake_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    zmq::socket_t dealer_;
};

}  // namespace

TEST_F(IntakeTest, Health) {
    send({{"v", 1}, {"id", 1}, {"op", "health"}});
    const json r = recv();
    ASSERT_FALSE(r.is_null()) << "no reply";
    EXPECT_EQ(r["kind"], "final");
    EXPECT_EQ(r["status"], 200);
    EXPECT_EQ(body(r)["database"], "ok");
}

TEST_F(IntakeTest, BadMessageWithIdGets400) {
    send({{"v", 1}, {"id", 5}, {"op", "convert"}});
    const json r = recv();
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["id"], 5);
    EXPECT_EQ(r["status"], 400);
    EXPECT_EQ(body(r)["error"], "bad_message");
    // Garbage without an id is dropped; the loop keeps serving.
    dealer_.send(zmq::str_buffer("\xc1garbage"));
    send({{"v", 1}, {"id", 6}, {"op", "health"}});
    EXPECT_EQ(recv()["id"], 6);
}

TEST_F(IntakeTest, AsyncConvert) {
    send(convert_msg(7, true));
    const json r = recv();
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["kind"], "final");
    EXPECT_EQ(r["status"], 202);
    EXPECT_EQ(r["job_id"], body(r)["job_id"]);
}

TEST_F(IntakeTest, SyncConvertGetsAcceptedThenFinal) {
    send(convert_msg(8, false));
    const json accepted = recv();
    ASSERT_FALSE(accepted.is_null());
    EXPECT_EQ(accepted["kind"], "accepted");
    const std::string job_id = accepted["job_id"];

    // Play the scheduler: claim and finish the task on another connection.
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::TaskOutcome o;
    o.task_id = claimed[0].task_id;
    o.error_code = "timeout";
    o.error = "The page did not finish loading in time.";
    ASSERT_TRUE(db::finish_task(*conn_, "w", o).job_terminal);

    const json final_reply = recv();
    ASSERT_FALSE(final_reply.is_null()) << "no final reply";
    EXPECT_EQ(final_reply["kind"], "final");
    EXPECT_EQ(final_reply["id"], 8);
    EXPECT_EQ(final_reply["status"], 504);
    EXPECT_EQ(body(final_reply)["error"], "timeout");
    EXPECT_EQ(body(final_reply)["job_id"], job_id);
}

// The intake thread over a real ROUTER socket and PostgreSQL: a DEALER plays
// the nginx module.
#include "intake/intake.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <zmq_addon.hpp>

#include "../db/pg_fixture.h"
#include "admin/key_command.h"
#include "db/job_repository.h"
#include "db/site_discoveries.h"
#include "intake/intake_loop.h"

using namespace enconvert;
using nlohmann::json;

namespace {

// True while something listens on the UNIX socket at `path`.
bool accepts_connections(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

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
        start_intake(intake::IntakeOptions{endpoint_, url(), std::chrono::seconds(60)});
    }
    void start_intake(const intake::IntakeOptions& options) {
        intake_ =
            std::make_unique<intake::Intake>(ctx_, options, storage::Presigner("secret", "", 3600));
        stop_ = false;
        thread_ = std::thread([this] { intake_->run(stop_); });
        // A fresh DEALER each time: one still connected to a stopped intake
        // may not have seen its connection close yet and would send the
        // next request into it (lost; CI saw a restarted test time out).
        dealer_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
        dealer_.set(zmq::sockopt::linger, 0);
        dealer_.set(zmq::sockopt::rcvtimeo, 5000);
        dealer_.connect(endpoint_);
    }
    void stop_intake() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        intake_.reset();
    }
    void TearDown() override {
        stop_intake();
        dealer_.close();
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

TEST_F(IntakeTest, WebsiteCaptureIsAnsweredOnceItsDiscoveryIsRecorded) {
    json msg = convert_msg(30, true);
    msg["endpoint"] = "website-to-pdf";
    msg["urls"] = {"https://example.com/docs/"};
    msg["batch"] = true;
    send(msg);
    const json accepted = recv();
    ASSERT_FALSE(accepted.is_null());
    EXPECT_EQ(accepted["kind"], "accepted");
    const std::string job_id = accepted["job_id"];

    json failing = msg;
    failing["id"] = 31;
    failing["options"] = {{"crawl_mode", "sitemap"}};
    send(failing);
    const json accepted2 = recv();
    ASSERT_EQ(accepted2["kind"], "accepted");
    const std::string failing_id = accepted2["job_id"];

    // Play the discoverer: the first job's pages, the second's no sitemap.
    for (int i = 0; i < 2; ++i) {
        const auto d = db::claim_discovery(*conn_, "d", 300);
        ASSERT_TRUE(d);
        db::DiscoveryOutcome o;
        o.method = "sitemap";
        if (d->job_id == job_id) {
            o.urls = {"https://example.com/docs/", "https://example.com/docs/a"};
            o.total_discovered = 2;
        } else {
            o.error_code = "no_sitemap";
            o.error = "No sitemap was found.";
        }
        ASSERT_TRUE(db::finish_discovery(*conn_, "d", d->job_id, o).applied);
    }
    std::set<int> answered;
    for (int i = 0; i < 2; ++i) {
        const json r = recv();
        ASSERT_FALSE(r.is_null()) << "missing final reply";
        EXPECT_EQ(r["kind"], "final");
        const int id = r["id"];
        answered.insert(id);
        if (id == 30) {
            EXPECT_EQ(r["status"], 202);
            EXPECT_EQ(body(r)["batch_id"], job_id);
            EXPECT_EQ(body(r)["url_count"], 2);
        } else {
            EXPECT_EQ(r["status"], 400);
            EXPECT_EQ(body(r)["error"], "no_sitemap");
            EXPECT_EQ(body(r)["job_id"], failing_id);
        }
    }
    EXPECT_EQ(answered, (std::set<int>{30, 31}));
}

TEST_F(IntakeTest, SyncRetryWithSameKeyWaitsForTheSameJob) {
    json first = convert_msg(20, false);
    first["idempotency_key"] = "retry-1";
    send(first);
    const json a = recv();
    ASSERT_EQ(a["kind"], "accepted");
    json retry = first;
    retry["id"] = 21;
    send(retry);
    const json b = recv();
    ASSERT_EQ(b["kind"], "accepted");
    EXPECT_EQ(b["job_id"], a["job_id"]);

    json changed = first;
    changed["id"] = 22;
    changed["urls"] = {"https://example.org"};
    send(changed);
    const json conflict = recv();
    EXPECT_EQ(conflict["kind"], "final");
    EXPECT_EQ(conflict["status"], 409);
    EXPECT_EQ(body(conflict)["error"], "idempotency_conflict");

    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    db::TaskOutcome o;
    o.task_id = claimed[0].task_id;
    o.error_code = "dns_error";
    o.error = "Failed to load page: host not found";
    ASSERT_TRUE(db::finish_task(*conn_, "w", o).job_terminal);

    // Both waiting requests get the job's final answer.
    std::set<int> answered;
    for (int i = 0; i < 2; ++i) {
        const json r = recv();
        ASSERT_FALSE(r.is_null()) << "missing final reply";
        EXPECT_EQ(r["kind"], "final");
        EXPECT_EQ(r["status"], 422);
        EXPECT_EQ(body(r)["job_id"], a["job_id"]);
        answered.insert(r["id"].get<int>());
    }
    EXPECT_EQ(answered, (std::set<int>{20, 21}));
}

TEST_F(IntakeTest, QueryStuckBehindALockAnswers503AndTheLoopKeepsServing) {
    stop_intake();
    intake::IntakeOptions options{endpoint_, url(), std::chrono::seconds(60)};
    options.statement_timeout = std::chrono::milliseconds(300);
    start_intake(options);

    // Something (a migration, an operator) holds the keys table: the key
    // lookup blocks until the statement timeout ends it.
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE");
    send(convert_msg(30, true));
    const json r = recv();  // at most 5 s (rcvtimeo): would hang without the timeout
    ASSERT_FALSE(r.is_null()) << "the intake stalled behind the lock";
    EXPECT_EQ(r["status"], 503);
    EXPECT_EQ(body(r)["error"], "database_unavailable");
    bool retry_after = false;
    for (const auto& h : r["headers"]) retry_after |= h[0] == "Retry-After";
    EXPECT_TRUE(retry_after);

    send({{"v", 1}, {"id", 31}, {"op", "health"}});
    const json health = recv();
    EXPECT_EQ(health["id"], 31);
    EXPECT_EQ(health["status"], 200);

    lock_tx.abort();
    send(convert_msg(32, true));
    const json ok = recv();
    EXPECT_EQ(ok["id"], 32);
    EXPECT_EQ(ok["status"], 202);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 1);
}

TEST_F(IntakeTest, RequestsInFlightWhenStoppingAreStillAnswered) {
    // Committed jobs whose answers were dropped at stop made nginx answer
    // 503 "may have been created" for jobs that exist.
    constexpr int kRequests = 100;
    for (int id = 1; id <= kRequests; ++id) send(convert_msg(id, true));
    stop_ = true;
    std::set<int> accepted;
    for (int i = 0; i < kRequests + 1; ++i) {
        const json r = recv();
        if (r.is_null()) break;
        if (r["kind"] == "final" && r["status"] == 202) accepted.insert(r["id"].get<int>());
        if (accepted.size() == kRequests) break;
    }
    thread_.join();
    EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kRequests));
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), kRequests);
}

TEST_F(IntakeTest, AModuleThatSendsWhileTheWorkerStopsIsToldOnceAndAnswered) {
    stop_intake();
    intake::IntakeOptions options{endpoint_, url(), std::chrono::seconds(60)};
    options.drain_quiet = std::chrono::seconds(1);  // the round trips below fit in it
    start_intake(options);
    stop_ = true;
    int stopping = 0;
    int answered = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (int id = 1; stopping == 0 && std::chrono::steady_clock::now() < deadline; ++id) {
        send({{"v", 1}, {"id", id}, {"op", "health"}});
        for (json r = recv(); !r.is_null(); r = recv()) {
            if (r["kind"] == "stopping") {
                EXPECT_EQ(r["id"], 0);
                ++stopping;
                continue;
            }
            EXPECT_EQ(r["id"], id);
            EXPECT_EQ(r["status"], 200);
            ++answered;
            break;
        }
    }
    ASSERT_EQ(stopping, 1) << "never told the worker is stopping";
    EXPECT_GE(answered, 1);
    // Told once only; once the module is quiet the intake ends.
    send({{"v", 1}, {"id", 999}, {"op", "health"}});
    const json r = recv();
    EXPECT_EQ(r["id"], 999);
    EXPECT_EQ(r["status"], 200);
    thread_.join();
    // ... and its socket is closed then, not when the rest of the worker
    // has stopped: libzmq would take requests that nobody reads meanwhile.
    const auto closed_by = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    bool refused = false;
    while (!refused && std::chrono::steady_clock::now() < closed_by) {
        refused = !accepts_connections(sock_dir_ + "/worker.sock");
        if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(refused) << "the intake's socket still listens";
}

TEST_F(IntakeTest, FinishedSyncJobUnreadableAnswers503NamingTheJob) {
    stop_intake();
    intake::IntakeOptions options{endpoint_, url(), std::chrono::seconds(60)};
    options.statement_timeout = std::chrono::milliseconds(300);
    start_intake(options);
    send(convert_msg(40, false));
    const json accepted = recv();
    ASSERT_EQ(accepted["kind"], "accepted");
    const std::string job_id = accepted["job_id"];

    // The job finishes, then something takes the tasks table before the
    // intake hears of it (the notification is sent by hand once the lock is
    // held): loading the result for the waiting request hits the statement
    // timeout.
    const auto claimed = db::claim_tasks(*conn_, "w", 300, 10);
    ASSERT_EQ(claimed.size(), 1u);
    {
        pqxx::work finish(*conn_);
        finish.exec_params(
            "UPDATE tasks SET status = 'failed', error_code = 'dns_error', "
            "error = 'Failed to load page: could not resolve host example.invalid' "
            "WHERE id = $1",
            claimed[0].task_id);
        finish.exec_params("UPDATE jobs SET status = 'failed', completed_at = now() WHERE id = $1",
                           job_id);
        finish.commit();
    }
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    {
        pqxx::nontransaction notify(*conn_);
        notify.exec_params("SELECT pg_notify($1, $2)", std::string(db::kJobDoneChannel), job_id);
    }

    const json r = recv();
    ASSERT_FALSE(r.is_null()) << "no final reply";
    EXPECT_EQ(r["id"], 40);
    EXPECT_EQ(r["status"], 503);
    EXPECT_EQ(body(r)["error"], "database_unavailable");
    EXPECT_EQ(body(r)["job_id"], job_id);
    EXPECT_NE(body(r)["detail"].get<std::string>().find("/v1/convert/status/" + job_id),
              std::string::npos);
    lock_tx.abort();
}

// Requests that arrive while a commit runs are read together and share the
// next commit (group commit). The first request is held behind a lock until
// three more are queued on the socket.
class IntakeGroupCommitTest : public IntakeTest {
  protected:
    // Sends request 50, waits until its insert waits for the lock
    // `holder` keeps on jobs, sends 51..53, then lets 50 go.
    void send_while_the_first_waits(std::vector<json> requests) {
        pqxx::connection holder(url());
        pqxx::work lock_tx(holder);
        lock_tx.exec("LOCK TABLE jobs IN EXCLUSIVE MODE");
        send(requests.front());
        ASSERT_TRUE(an_insert_waits()) << "the first insert never waited for the lock";
        for (std::size_t i = 1; i < requests.size(); ++i) send(requests[i]);
        lock_tx.abort();
    }
    // Waits up to 5 s for an INSERT into jobs to wait for a lock.
    bool an_insert_waits() {
        pqxx::connection watcher(url());
        for (int i = 0; i < 500; ++i) {
            pqxx::nontransaction tx(watcher);
            if (tx.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                        "'Lock' AND query LIKE '%INSERT INTO jobs%'")[0][0]
                    .as<int>() > 0)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    std::map<int, json> replies(std::size_t n) {
        std::map<int, json> out;
        for (std::size_t i = 0; i < n; ++i) {
            const json r = recv();
            if (r.is_null()) break;
            out[r["id"].get<int>()] = r;
        }
        return out;
    }
};

TEST_F(IntakeGroupCommitTest, QueuedConvertsShareOneCommit) {
    send_while_the_first_waits({convert_msg(50, true), convert_msg(51, true), convert_msg(52, true),
                                convert_msg(53, true)});
    const auto got = replies(4);
    ASSERT_EQ(got.size(), 4u);
    std::set<std::string> group;
    for (int id : {51, 52, 53}) {
        EXPECT_EQ(got.at(id)["status"], 202) << id;
        group.insert(body(got.at(id))["job_id"].get<std::string>());
    }
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 4);
    // 51..53 in one transaction, 50 in its own.
    const auto first = tx.exec_params("SELECT xmin::text FROM jobs WHERE id = $1",
                                      body(got.at(50))["job_id"].get<std::string>())[0][0]
                           .as<std::string>();
    std::set<std::string> xmins;
    for (const auto& id : group)
        xmins.insert(tx.exec_params("SELECT xmin::text FROM jobs WHERE id = $1", id)[0][0]
                         .as<std::string>());
    EXPECT_EQ(xmins.size(), 1u);
    EXPECT_NE(*xmins.begin(), first);
}

TEST_F(IntakeGroupCommitTest, AFailedGroupCommitAnswersEveryRequestInIt503) {
    const test_support::JobsTrigger fail(url(), "fail_commit",
                                         test_support::JobsTrigger::When::at_commit,
                                         "RAISE EXCEPTION 'commit refused';");
    send_while_the_first_waits({convert_msg(60, true), convert_msg(61, true),
                                convert_msg(62, false), convert_msg(63, true)});
    const auto got = replies(4);
    ASSERT_EQ(got.size(), 4u);
    for (int id : {61, 62, 63}) {
        EXPECT_EQ(got.at(id)["status"], 503) << id;
        EXPECT_EQ(body(got.at(id))["error"], "database_unavailable") << id;
    }
    EXPECT_GE(got.at(60)["status"].get<int>(), 500);  // alone: its own error
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 0);
    // The loop keeps serving.
    send({{"v", 1}, {"id", 64}, {"op", "health"}});
    EXPECT_EQ(recv()["status"], 200);
}

// A loop stopped while a slow commit holds it answers the requests queued
// for it meanwhile: the front no longer reads them back, and their senders
// would get nothing until the connection closes.
TEST_F(IntakeGroupCommitTest, ALoopStoppedWhileBusyAnswersWhatWasQueuedForIt) {
    zmq::socket_t front(ctx_, zmq::socket_type::dealer);
    front.set(zmq::sockopt::linger, 0);
    front.set(zmq::sockopt::rcvtimeo, 5000);
    front.bind("inproc://busy-loop");
    intake::IntakeLoop loop(ctx_, "inproc://busy-loop",
                            intake::IntakeOptions{endpoint_, url(), std::chrono::seconds(60)},
                            storage::Presigner("secret", "", 3600));
    std::atomic<bool> loop_stop{false};
    std::thread runner([&] { loop.run(loop_stop); });
    auto to_loop = [&](const json& msg) {
        const auto bytes = json::to_msgpack(msg);
        std::array<zmq::const_buffer, 2> frames{zmq::str_buffer("nginx-1"), zmq::buffer(bytes)};
        (void)zmq::send_multipart(front, frames);
    };
    {
        pqxx::connection holder(url());
        pqxx::work lock_tx(holder);
        lock_tx.exec("LOCK TABLE jobs IN EXCLUSIVE MODE");
        to_loop(convert_msg(90, true));
        ASSERT_TRUE(an_insert_waits());
        to_loop(convert_msg(91, true));  // queued while 90's insert waits
        loop_stop = true;
    }
    std::set<int> answered;
    for (int i = 0; i < 2; ++i) {
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(front, std::back_inserter(parts))) break;
        const json r = json::from_msgpack(parts.at(1).to_string());
        EXPECT_EQ(r["status"], 202);
        answered.insert(r["id"].get<int>());
    }
    runner.join();
    EXPECT_EQ(answered, (std::set<int>{90, 91}));
}

// After the drain, while a loop still finishes a slow commit, a request
// from a module that was quiet during the drain is answered 503 "not
// enqueued" at once: it used to sit unread until the socket closed, and
// nginx then answered "may have been created" for a job that did not exist.
TEST_F(IntakeGroupCommitTest, ARequestAfterTheDrainIsRefusedNotLeftUnread) {
    stop_intake();
    intake::IntakeOptions options{endpoint_, url(), std::chrono::seconds(60)};
    options.drain_quiet = std::chrono::milliseconds(100);
    start_intake(options);
    zmq::socket_t quiet(ctx_, zmq::socket_type::dealer);
    quiet.set(zmq::sockopt::linger, 0);
    quiet.set(zmq::sockopt::rcvtimeo, 200);
    quiet.connect(endpoint_);
    {
        pqxx::connection holder(url());
        pqxx::work lock_tx(holder);
        lock_tx.exec("LOCK TABLE jobs IN EXCLUSIVE MODE");
        send(convert_msg(95, true));
        ASSERT_TRUE(an_insert_waits());
        stop_ = true;
        // The loop is held by the lock: the drain ends (quiet, or its
        // bound); then a request must be refused at once.
        bool refused = false;
        bool told = false;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
        for (int id = 1000; !refused && std::chrono::steady_clock::now() < deadline; ++id) {
            const auto bytes = json::to_msgpack(json{{"v", 1}, {"id", id}, {"op", "health"}});
            quiet.send(zmq::buffer(bytes));
            zmq::message_t m;
            while (!refused && quiet.recv(m)) {
                const json r =
                    json::from_msgpack(static_cast<const std::uint8_t*>(m.data()),
                                       static_cast<const std::uint8_t*>(m.data()) + m.size());
                if (r["kind"] == "stopping") told = true;
                if (r["kind"] == "final" && r["status"] == 503) {
                    refused = true;
                    EXPECT_EQ(body(r)["error"], "backend_unavailable");
                    EXPECT_NE(body(r)["detail"].get<std::string>().find("not enqueued"),
                              std::string::npos);
                }
            }
        }
        EXPECT_TRUE(refused) << "a request after the drain was left unread";
        EXPECT_TRUE(told);
    }
    // The held convert is still answered once its commit goes through.
    const json r = recv();
    EXPECT_EQ(r["id"], 95);
    EXPECT_EQ(r["status"], 202);
    thread_.join();
}

// The connection lost during the COMMIT (pqxx::in_doubt_error): the jobs may
// exist, so the answer must not invite a plain retry (it said "retry in a
// few seconds" to a group, 500 to a lone request).
class IntakeCommitCutOffTest : public IntakeGroupCommitTest {
  protected:
    // The COMMIT of the `nth` job row inserted from now on ends its
    // connection, before it commits.
    std::unique_ptr<test_support::JobsTrigger> cut_commit_of_row(int nth) {
        {
            pqxx::work tx(*conn_);
            tx.exec("DROP SEQUENCE IF EXISTS cut_intake; CREATE SEQUENCE cut_intake");
            tx.commit();
        }
        return std::make_unique<test_support::JobsTrigger>(
            url(), "cut_intake", test_support::JobsTrigger::When::at_commit,
            "IF nextval('cut_intake') = " + std::to_string(nth) +
                " THEN PERFORM pg_terminate_backend(pg_backend_pid()); "
                "PERFORM pg_sleep(5); END IF;");
    }
    static void expect_may_exist(const json& reply, bool keyed) {
        EXPECT_EQ(reply["status"], 503);
        EXPECT_EQ(body(reply)["error"], "database_unavailable");
        const std::string detail = body(reply)["detail"];
        EXPECT_NE(detail.find("may have been created"), std::string::npos) << detail;
        EXPECT_NE(detail.find(keyed ? "Retry with the same Idempotency-Key"
                                    : "Check before resubmitting"),
                  std::string::npos)
            << detail;
    }
    // Connected again (bounded): a convert is accepted.
    void expect_serving_again(int id) {
        for (int i = 0; i < 100; ++i) {
            send({{"v", 1}, {"id", id}, {"op", "health"}});
            if (recv()["status"] == 200) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        send(convert_msg(id, true));
        EXPECT_EQ(recv()["status"], 202);
    }
};

TEST_F(IntakeCommitCutOffTest, ALoneRequestIsToldItsJobMayExist) {
    const auto cut = cut_commit_of_row(1);
    json keyed = convert_msg(70, true);
    keyed["idempotency_key"] = "order-70";
    send(keyed);
    expect_may_exist(recv(), true);
    expect_serving_again(71);
}

// Only the requests that made a job are told it may exist: one answered
// without a job (a bad key) keeps its answer; it used to be told "may have
// been created" with the rest.
TEST_F(IntakeCommitCutOffTest, EveryRequestOfAGroupThatMadeAJobIsToldItMayExist) {
    const auto cut = cut_commit_of_row(2);  // 80 commits alone, then the group
    json keyed = convert_msg(82, true);
    keyed["idempotency_key"] = "order-82";
    json bad_key = convert_msg(84, true);
    bad_key["key"] = "ek_live_unknown";
    send_while_the_first_waits({convert_msg(80, true), convert_msg(81, true), keyed, bad_key});
    const auto got = replies(4);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got.at(80)["status"], 202);
    expect_may_exist(got.at(81), false);
    expect_may_exist(got.at(82), true);
    EXPECT_EQ(got.at(84)["status"], 401);
    expect_serving_again(83);
}

TEST_F(IntakeGroupCommitTest, WithTwoLoopsOneAnswersWhileTheOthersCommitWaits) {
    stop_intake();
    intake::IntakeOptions options{endpoint_, url(), std::chrono::seconds(60)};
    options.loops = 2;
    start_intake(options);
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE jobs IN EXCLUSIVE MODE");
    send(convert_msg(70, true));  // one loop's insert waits for the lock
    ASSERT_TRUE(an_insert_waits());
    // The loops take requests in turn: the other one answers this while
    // the first still waits.
    send({{"v", 1}, {"id", 71}, {"op", "health"}});
    const json health = recv();
    ASSERT_FALSE(health.is_null()) << "no answer while the other loop waited";
    EXPECT_EQ(health["id"], 71);
    EXPECT_EQ(health["status"], 200);
    lock_tx.abort();
    const json accepted = recv();
    ASSERT_FALSE(accepted.is_null());
    EXPECT_EQ(accepted["id"], 70);
    EXPECT_EQ(accepted["status"], 202);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs")[0][0].as<int>(), 1);
}

// Polls that arrive while a read waits are read together (one statement for
// their jobs) and each answered as alone: another account's job as unknown.
TEST_F(IntakeGroupCommitTest, QueuedPollsAreAnsweredTogetherEachForItsOwnAccount) {
    std::ostringstream out;
    const std::string other_key = admin::create_key(*conn_, "other", out);
    send(convert_msg(90, true));
    const std::string mine = body(recv())["job_id"];
    auto theirs_msg = convert_msg(91, true);
    theirs_msg["key"] = other_key;
    send(theirs_msg);
    const std::string theirs = body(recv())["job_id"];
    auto poll = [&](int id, const std::string& key, const std::string& job) {
        return json{
            {"v", 1},       {"id", id}, {"op", "status"}, {"key", key}, {"base_url", "http://h"},
            {"job_id", job}};
    };

    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
    send(poll(92, key_, mine));  // its read waits for the lock
    {
        pqxx::connection watcher(url());
        bool waits = false;
        for (int i = 0; i < 500 && !waits; ++i) {
            pqxx::nontransaction tx(watcher);
            waits = tx.exec(
                          "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                          "'Lock' AND query LIKE 'SELECT j.id, j.account_id%'")[0][0]
                        .as<int>() > 0;
            if (!waits) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_TRUE(waits) << "the first poll's read never waited for the lock";
    }
    send(poll(93, key_, theirs));  // another account's job
    send(poll(94, other_key, theirs));
    send(poll(95, key_, "job_unknown"));
    send(poll(96, key_, mine));
    send(poll(97, "sk_live_" + std::string(40, 'x'), mine));
    lock_tx.abort();

    const auto got = replies(6);
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got.at(92)["status"], 200);
    EXPECT_EQ(body(got.at(92))["job_id"], mine);
    EXPECT_EQ(got.at(93)["status"], 404);
    EXPECT_EQ(got.at(94)["status"], 200);
    EXPECT_EQ(body(got.at(94))["job_id"], theirs);
    EXPECT_EQ(got.at(95)["status"], 404);
    EXPECT_EQ(body(got.at(93)), body(got.at(95)));
    EXPECT_EQ(got.at(96)["status"], 200);
    EXPECT_EQ(body(got.at(96))["job_id"], mine);
    EXPECT_EQ(got.at(97)["status"], 401);
}

// Integration tests of the notification path against real services: a
// throwaway PostgreSQL cluster (the db tests' fixture), aiosmtpd on loopback
// and HTTPS receivers with a test CA (tests/e2e/receivers.py). They run the
// Notifier alone, without the rest of the worker.
#include "notify/notifier.h"

#include <gtest/gtest.h>

#include <cstring>
#include <ctime>
#include <set>
#include <thread>

#include "../../support/held_lookup.h"
#include "../../support/wait_until.h"
#include "../db/commit_cutter.h"
#include "../db/outbox_fixture.h"
#include "auth/api_keys.h"
#include "db/key_repository.h"
#include "notify/webhook_signature.h"
#include "receivers_process.h"
#include "util/ids.h"

using namespace enconvert;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Row = test_support::NotificationRow;

// Runs a Notifier on its own thread for the lifetime of the object.
class RunningNotifier {
  public:
    explicit RunningNotifier(notify::NotifierSettings s)
        : notifier_(std::move(s), storage::Presigner("test-secret", "", 3600)),
          thread_([this] { notifier_.run(stop_); }) {}
    ~RunningNotifier() { stop(); }

    // What SIGTERM does to the worker: returns once run() has drained.
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

  private:
    std::atomic<bool> stop_{false};
    notify::Notifier notifier_;
    std::thread thread_;
};

class NotifierTest : public test_support::PgAccountTest {
  protected:
    static void SetUpTestSuite() {
        PgAccountTest::SetUpTestSuite();
        try {
            receivers_ = std::make_unique<test_support::Receivers>();
        } catch (const std::exception& e) {
            receivers_error_ = e.what();
        }
    }
    static void TearDownTestSuite() {
        receivers_.reset();
        PgAccountTest::TearDownTestSuite();
    }

    void SetUp() override {
        PgAccountTest::SetUp();
        if (HasFatalFailure()) return;
        ASSERT_TRUE(receivers_) << "receivers did not start: " << receivers_error_;
        mail_dir_ = std::filesystem::temp_directory_path() / ("enc-mail-" + util::random_hex(6));
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(mail_dir_, ec);
    }

    void expect_no_login_without_starttls(notify::NotifierSettings s,
                                          const std::string& credentials);

    notify::NotifierSettings settings() const {
        notify::NotifierSettings s;
        s.database_url = url();
        s.worker_id = "test-notifier";
        s.allowed_networks = "127.0.0.0/8";
        s.smtp_url = receivers_->smtp_url();
        s.mail_dir = mail_dir_.string();
        s.tls_ca_file = receivers_->ca_file;
        s.options.webhook_timeout = 3;
        s.poll_interval = 500ms;
        return s;
    }

    std::string terminal_job(const std::optional<std::string>& callback,
                             const std::optional<std::string>& email, int tasks = 3,
                             std::set<int> failed = {2}) {
        return test_support::insert_terminal_job(*conn_, key_, callback, email, tasks, failed);
    }

    Row row(const std::string& job_id, const std::string& type) {
        return test_support::notification_row(*conn_, job_id, type);
    }

    Row wait_final(const std::string& job_id, const std::string& type,
                   std::chrono::seconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        Row r;
        while (std::chrono::steady_clock::now() < deadline) {
            r = row(job_id, type);
            if (r.state == "delivered" || r.state == "failed") return r;
            std::this_thread::sleep_for(50ms);
        }
        ADD_FAILURE() << type << " notification of " << job_id << " still " << r.state;
        return r;
    }

    std::filesystem::path mail_dir_;
    inline static std::unique_ptr<test_support::Receivers> receivers_;
    inline static std::string receivers_error_;
};

std::set<std::string> keys(const json& j) {
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
    return out;
}

}  // namespace

TEST_F(NotifierTest, ThreeTaskJobWithOneFailureSendsExactWebhookAndOneEmail) {
    RunningNotifier n(settings());
    const std::string id =
        terminal_job(receivers_->https("/hook/ok"), std::string("team@example.com"));
    const Row hook = wait_final(id, "webhook");
    const Row mail = wait_final(id, "email");
    EXPECT_EQ(hook.state, "delivered");
    EXPECT_EQ(hook.attempts, 1);
    EXPECT_EQ(hook.response_code, 200);
    EXPECT_FALSE(hook.error);
    EXPECT_EQ(mail.state, "delivered");
    EXPECT_EQ(mail.attempts, 1);
    EXPECT_EQ(mail.response_code, 250);

    json req;
    for (const auto& r : receivers_->webhooks("/hook/ok")) {
        if (json::parse(r["body"].get<std::string>())["job_id"] == id) req = r;
    }
    ASSERT_FALSE(req.is_null());
    EXPECT_EQ(req["method"], "POST");
    EXPECT_EQ(req["headers"]["content-type"], "application/json");
    EXPECT_FALSE(req["headers"].contains("authorization"));
    EXPECT_FALSE(req["headers"].contains("webhook-signature"));
    const json body = json::parse(req["body"].get<std::string>());
    EXPECT_EQ(keys(body), (std::set<std::string>{"job_id", "status", "total_tasks",
                                                 "completed_tasks", "failed_tasks", "tasks"}));
    EXPECT_EQ(body["status"], "completed");
    EXPECT_EQ(body["total_tasks"], 3);
    EXPECT_EQ(body["completed_tasks"], 2);
    EXPECT_EQ(body["failed_tasks"], 1);
    ASSERT_EQ(body["tasks"].size(), 3u);
    for (int i : {0, 1}) {
        const json& t = body["tasks"][i];
        EXPECT_EQ(keys(t), (std::set<std::string>{"url", "status", "presigned_url", "object_key",
                                                  "file_size", "conversion_time"}));
        EXPECT_EQ(t["url"], "https://example.com/page-" + std::to_string(i));
        EXPECT_EQ(t["status"], "success");
        EXPECT_EQ(t["file_size"], 1000 + i);
        EXPECT_EQ(t["presigned_url"].get<std::string>().rfind(
                      "https://api.example.com/v1/files/" + t["object_key"].get<std::string>() +
                          "?expires=",
                      0),
                  0u);
    }
    EXPECT_EQ(body["tasks"][2],
              (json{{"url", "https://invalid-url.example/2"},
                    {"status", "failed"},
                    {"error", "Failed to load page: net::ERR_NAME_NOT_RESOLVED"}}));

    std::vector<json> mails;
    for (const auto& m : receivers_->mails()) {
        if (m["data"].get<std::string>().find(id) != std::string::npos) mails.push_back(m);
    }
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0]["mail_from"], "enconvert@localhost");
    EXPECT_EQ(mails[0]["rcpt_tos"], json::array({"team@example.com"}));
    const std::string data = mails[0]["data"];
    for (const std::string& s :
         {"Subject: enconvert job " + id + ": success", std::string("To: team@example.com"),
          std::string("https://example.com/page-0"), std::string("https://example.com/page-1"),
          std::string("https://invalid-url.example/2"), std::string("ERR_NAME_NOT_RESOLVED"),
          std::string("1000 bytes"), std::string("1001 bytes"), std::string("1.50 s")}) {
        EXPECT_NE(data.find(s), std::string::npos) << s << "\n" << data;
    }
    EXPECT_NE(data.find("https://api.example.com/v1/files/live/files/"), std::string::npos);
}

TEST_F(NotifierTest, Receiver500IsOneFailedAttempt) {
    RunningNotifier n(settings());
    const std::string id = terminal_job(receivers_->https("/hook/status/500"), std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.response_code, 500);
    EXPECT_EQ(r.error.value_or("").rfind("http_status", 0), 0u) << r.error.value_or("");
    std::this_thread::sleep_for(1500ms);  // no retry follows
    int seen = 0;
    for (const auto& w : receivers_->webhooks("/hook/status/500")) {
        seen += json::parse(w["body"].get<std::string>())["job_id"] == id ? 1 : 0;
    }
    EXPECT_EQ(seen, 1);
    EXPECT_EQ(row(id, "webhook").attempts, 1);
}

TEST_F(NotifierTest, SilentReceiverTimesOutWithoutHoldingUpOthers) {
    auto settings_5s = settings();
    settings_5s.options.webhook_timeout = 5;
    RunningNotifier n(settings_5s);
    const std::string slow = terminal_job(receivers_->https("/hook/hang"), std::nullopt);
    const std::string fast = terminal_job(receivers_->https("/hook/ok"), std::nullopt);
    const Row f = wait_final(fast, "webhook");
    EXPECT_EQ(f.state, "delivered");
    // The later job was delivered while the earlier one was still waiting for
    // its silent receiver: one slow receiver holds up no one else.
    EXPECT_EQ(row(slow, "webhook").state, "sending");
    const Row s = wait_final(slow, "webhook");
    EXPECT_EQ(s.state, "failed");
    EXPECT_EQ(s.attempts, 1);
    EXPECT_FALSE(s.response_code);
    EXPECT_EQ(s.error, "timeout: no complete answer within 5 s");
}

// Every slot taken by a receiver that does not answer, with work due: the
// loop waited 0 ms for a claim it could not make, and spun a core until a
// slot freed (any tenant can hold the slots with silent callback URLs).
TEST_F(NotifierTest, AFullNotifierWaitsForASlotWithoutSpinning) {
    auto s = settings();
    s.options.max_concurrent = 1;
    s.options.webhook_timeout = 3;
    s.poll_interval = 100ms;
    RunningNotifier n(s);
    const std::string slow = terminal_job(receivers_->https("/hook/hang"), std::nullopt);
    const std::string waiting = terminal_job(receivers_->https("/hook/ok"), std::nullopt);
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (row(slow, "webhook").state != "sending" && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(10ms);
    }
    const std::clock_t cpu_before = std::clock();
    const Row r = wait_final(slow, "webhook");
    const double cpu_seconds = static_cast<double>(std::clock() - cpu_before) / CLOCKS_PER_SEC;
    EXPECT_EQ(r.error, "timeout: no complete answer within 3 s");
    // The slot was held for about 3 s; a spinning loop burns about as much.
    EXPECT_LT(cpu_seconds, 0.5);
    EXPECT_EQ(wait_final(waiting, "webhook").state, "delivered");
}

// One tenant's receivers that do not answer hold at most its share of the
// slots: another tenant's webhook goes out at once, not after their
// timeouts (before: every slot held, the other waited a whole round).
TEST_F(NotifierTest, OneAccountsSilentReceiversLeaveSlotsForTheOthers) {
    const db::CreatedKey other = db::create_key(
        *conn_, "globex", auth::key_hash_hex(auth::generate_api_key()), "sk_live_globex");
    std::vector<std::string> flood;
    for (int i = 0; i < 4; ++i) {
        flood.push_back(terminal_job(receivers_->https("/hook/hang"), std::nullopt));
    }
    auto s = settings();
    s.options.max_concurrent = 4;  // share: 2
    s.options.webhook_timeout = 5;
    RunningNotifier n(s);
    const std::string id = test_support::insert_terminal_job(
        *conn_, other, receivers_->https("/hook/other-tenant"), std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "delivered");
    int sending = 0, pending = 0;
    for (const auto& f : flood) {
        const std::string state = row(f, "webhook").state;
        sending += state == "sending" ? 1 : 0;
        pending += state == "pending" ? 1 : 0;
    }
    // Delivered while the flood still waited: two of it in flight, two queued.
    EXPECT_EQ(sending, 2);
    EXPECT_EQ(pending, 2);

    // The queued two are due but cannot be claimed until one of the first
    // two ends: the notifier must not keep trying (it claimed every 10 ms,
    // three transactions each, for as long as the flood held its share).
    const auto commits = [this] {
        pqxx::nontransaction tx(*conn_);
        return tx
            .exec(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")[0][0]
            .as<long long>();
    };
    const long long before = commits();
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (row(flood[0], "webhook").state == "sending" && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(200ms);
    // Statistics reach the view within a second of the commits; about 3 s
    // passed. Quiet: the poll (500 ms) and this loop's reads, some 30.
    EXPECT_LT(commits() - before, 300);
}

TEST_F(NotifierTest, UntrustedCertificateIsATlsFailure) {
    RunningNotifier n(settings());
    const std::string id = terminal_job(receivers_->untrusted("/hook/ok"), std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error.value_or("").rfind("tls_error", 0), 0u) << r.error.value_or("");
    // One list: begin() and end() of two calls' lists would not pair up.
    const json received = receivers_->webhooks("/hook/ok");
    EXPECT_TRUE(std::none_of(received.begin(), received.end(), [&](const json& w) {
        return json::parse(w["body"].get<std::string>())["job_id"] == id;
    }));
}

TEST_F(NotifierTest, WithoutTheTestCaTheReceiverIsNotTrusted) {
    auto s = settings();
    s.tls_ca_file.clear();
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/ok"), std::nullopt);
    EXPECT_EQ(wait_final(id, "webhook").error.value_or("").rfind("tls_error", 0), 0u);
}

TEST_F(NotifierTest, HttpCallbackIsRefused) {
    RunningNotifier n(settings());
    const std::string id = terminal_job(
        "http://127.0.0.1:" + std::to_string(receivers_->https_port) + "/hook/ok", std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error, "insecure_url");
    EXPECT_EQ(r.attempts, 1);
}

// A port browsers refuse (here SMTP's submission port) is a policy refusal:
// nothing is sent and no retry is planned, even with retries on.
TEST_F(NotifierTest, CallbackOnARestrictedPortIsRefused) {
    auto s = settings();
    s.options.webhook_retries = 3;
    RunningNotifier n(s);
    const std::string id = terminal_job("https://127.0.0.1:587/hook/ok", std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error.value_or("").rfind("restricted_port: port 587", 0), 0u)
        << r.error.value_or("");
    EXPECT_EQ(r.attempts, 1);
}

TEST_F(NotifierTest, LoopbackCallbackIsBlockedWithoutExemption) {
    auto s = settings();
    s.allowed_networks.clear();
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/blocked"), std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error, "blocked_address");
    EXPECT_TRUE(receivers_->webhooks("/hook/blocked").empty());
}

// A callback host whose DNS server never answers: getaddrinfo has no
// deadline of its own, so the lookup is given up once it has used
// webhook_timeout, other deliveries go on meanwhile, and a stop does not wait
// for it.
TEST_F(NotifierTest, ACallbackHostWhoseDnsDoesNotAnswerFailsAtTheTimeout) {
    auto dns = test_support::HeldLookup::create({"silent-dns.test"});
    auto s = settings();
    s.options.webhook_timeout = 2;
    s.host_lookup = dns->lookup();
    RunningNotifier n(s);
    const std::string silent = terminal_job(
        "https://silent-dns.test:" + std::to_string(receivers_->https_port) + "/hook/silent",
        std::nullopt);
    const std::string fast = terminal_job(receivers_->https("/hook/ok"), std::nullopt);
    EXPECT_EQ(wait_final(fast, "webhook").state, "delivered");
    const Row r = wait_final(silent, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error, "dns_error: silent-dns.test did not answer within 2 s");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(dns->started(), 1);
    EXPECT_EQ(dns->answered(), 0);  // given up, not waited for
}

TEST_F(NotifierTest, StopDoesNotWaitForALookupThatDoesNotAnswer) {
    auto dns = test_support::HeldLookup::create({"silent-dns.test"});
    auto s = settings();
    s.options.webhook_timeout = 30;
    s.host_lookup = dns->lookup();
    const std::string id = terminal_job(
        "https://silent-dns.test:" + std::to_string(receivers_->https_port) + "/hook/silent",
        std::nullopt);
    {
        RunningNotifier n(s);
        const auto until = std::chrono::steady_clock::now() + 10s;
        while (dns->started() == 0 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(10ms);
        }
        ASSERT_EQ(dns->started(), 1);
        n.stop();
    }
    EXPECT_EQ(dns->answered(), 0);  // the stop did not wait for the lookup
    // Nothing was sent: the row is handed back for the next notifier.
    const Row r = row(id, "webhook");
    EXPECT_EQ(r.state, "pending");
    EXPECT_EQ(r.attempts, 0);
    dns->release();
}

// A callback host with several addresses, the first of which does not
// answer (the receiver listens on 127.0.0.1 only, so ::1 refuses): the
// delivery goes on to the next instead of failing on the first.
TEST_F(NotifierTest, ACallbackHostsNextAddressIsTriedWhenOneDoesNotAnswer) {
    auto s = settings();
    s.allowed_networks = "127.0.0.0/8,::1/128";
    s.host_lookup = [](const std::string& host) {
        if (host != "localhost") return net::system_lookup(host);
        return std::vector<net::IpAddress>{*net::IpAddress::parse("::1"),
                                           *net::IpAddress::parse("127.0.0.1")};
    };
    RunningNotifier n(s);
    const std::string id = terminal_job(
        "https://localhost:" + std::to_string(receivers_->https_port) + "/hook/several",
        std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(receivers_->webhooks("/hook/several").size(), 1u);
}

TEST_F(NotifierTest, RedirectsAreNotFollowed) {
    RunningNotifier n(settings());
    const std::string id = terminal_job(receivers_->https("/hook/redirect"), std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.response_code, 302);
}

TEST_F(NotifierTest, WithoutSmtpUrlMailIsWrittenToMailDir) {
    auto s = settings();
    s.smtp_url.clear();
    RunningNotifier n(s);
    const std::string id = terminal_job(std::nullopt, std::string("team@example.com"), 1, {});
    const Row r = wait_final(id, "email");
    EXPECT_EQ(r.state, "delivered");
    std::ifstream in(mail_dir_ / (id + ".eml"));
    ASSERT_TRUE(in) << "no .eml file";
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_NE(ss.str().find("Subject: enconvert job " + id + ": success"), std::string::npos);
}

TEST_F(NotifierTest, InterruptedDeliveryIsFailedNotResent) {
    const std::string id = terminal_job(receivers_->https("/hook/interrupted"), std::nullopt);
    {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "UPDATE notifications SET state = 'sending', attempts = 1, claimed_by = 'dead', "
            "lease_expires_at = now() - interval '1 second' WHERE job_id = $1",
            id);
        tx.commit();
    }
    RunningNotifier n(settings());
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error, "delivery interrupted by worker restart");
    EXPECT_EQ(r.attempts, 1);
    std::this_thread::sleep_for(700ms);
    EXPECT_TRUE(receivers_->webhooks("/hook/interrupted").empty());
}

// The statement recording a delivered webhook is cancelled once (a
// statement timeout, an operator's pg_cancel_backend; a full disk is the
// same class of error): the outcome is kept and recorded after it, not
// dropped (the row was then failed as interrupted, or sent again).
TEST_F(NotifierTest, AnOutcomeWhoseRecordingWasCancelledIsRecordedAfterIt) {
    const std::string id = terminal_job(receivers_->https("/hook/cancelled-record"), std::nullopt);
    {
        pqxx::work tx(*conn_);
        tx.exec("CREATE SEQUENCE IF NOT EXISTS record_cancelled_once");
        tx.commit();
    }
    test_support::JobsTrigger cancel(
        url(), "cancel_record_once", "notifications",
        "CREATE TRIGGER cancel_record_once BEFORE UPDATE ON notifications FOR EACH ROW "
        "WHEN (NEW.state = 'delivered') EXECUTE FUNCTION cancel_record_once()",
        "IF nextval('record_cancelled_once') = 1 THEN "
        "  RAISE EXCEPTION 'canceling statement' USING ERRCODE = 'query_canceled'; "
        "END IF;");
    {
        RunningNotifier n(settings());
        const Row r = wait_final(id, "webhook", 15s);
        EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
        EXPECT_EQ(r.attempts, 1);
    }
    EXPECT_EQ(receivers_->webhooks("/hook/cancelled-record").size(), 1u);
    pqxx::work tx(*conn_);
    EXPECT_EQ(tx.exec1("SELECT last_value FROM record_cancelled_once")[0].as<int>(), 2);
    tx.exec("DROP SEQUENCE record_cancelled_once");
    tx.commit();
}

// An outcome refused every time on an open connection (a role's
// statement_timeout shorter than the recording) used to drop the
// connection every half second and stay at the head of the queue: no
// other outcome was recorded. Now it waits behind the others.
TEST_F(NotifierTest, AnOutcomeTheServerKeepsRefusingHoldsUpNoOther) {
    {
        pqxx::work tx(*conn_);
        tx.exec("CREATE SEQUENCE IF NOT EXISTS record_refusals");
        tx.commit();
    }
    test_support::JobsTrigger refuse(
        url(), "refuse_record", "notifications",
        "CREATE TRIGGER refuse_record BEFORE UPDATE ON notifications FOR EACH ROW "
        "WHEN (NEW.state = 'delivered' AND NEW.target LIKE '%/hook/refused') "
        "EXECUTE FUNCTION refuse_record()",
        "PERFORM nextval('record_refusals'); "
        "RAISE EXCEPTION 'canceling statement due to statement timeout' "
        "  USING ERRCODE = 'query_canceled';");
    RunningNotifier n(settings());
    const std::string refused = terminal_job(receivers_->https("/hook/refused"), std::nullopt);
    EXPECT_TRUE(test_support::wait_until([&] {
        pqxx::work tx(*conn_);
        return tx.exec1("SELECT is_called FROM record_refusals")[0].as<bool>();
    }));
    const std::string other = terminal_job(receivers_->https("/hook/other"), std::nullopt);
    const Row r = wait_final(other, "webhook", 15s);
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    n.stop();
    pqxx::work tx(*conn_);
    tx.exec("DROP SEQUENCE record_refusals");
    tx.commit();
}

TEST_F(NotifierTest, ConfiguredRetriesHonourRetryAfter) {
    auto s = settings();
    s.options.webhook_retries = 2;
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/flaky/1"), std::nullopt);
    const Row r = wait_final(id, "webhook", 20s);
    EXPECT_EQ(r.state, "delivered");
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(r.response_code, 200);
}

TEST_F(NotifierTest, SigningAddsStandardWebhooksHeaders) {
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE accounts SET webhook_secret = $1 WHERE id = $2",
                       std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), key_.account_id);
        tx.commit();
    }
    auto s = settings();
    s.options.webhook_signing = true;
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/signed"), std::nullopt);
    ASSERT_EQ(wait_final(id, "webhook").state, "delivered");
    const auto got = receivers_->webhooks("/hook/signed");
    ASSERT_EQ(got.size(), 1u);
    const json& h = got[0]["headers"];
    const std::string body = got[0]["body"];
    const auto expect = notify::standard_webhook_headers(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h["webhook-id"],
        std::stoll(h["webhook-timestamp"].get<std::string>()), body);
    EXPECT_EQ(h["webhook-id"], "msg_" + id);
    EXPECT_EQ(h["webhook-signature"], expect[2].second);
}

TEST_F(NotifierTest, AMalformedSigningSecretSaysSoAndSendsNothing) {
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE accounts SET webhook_secret = $1 WHERE id = $2",
                       std::string("whsec_not base64!"), key_.account_id);
        tx.commit();
    }
    auto s = settings();
    s.options.webhook_signing = true;
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/bad-secret"), std::nullopt);
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error,
              "invalid_secret: the account's webhook_secret is not whsec_ followed by "
              "the base64 of a key");
    EXPECT_TRUE(receivers_->webhooks("/hook/bad-secret").empty());
}

TEST_F(NotifierTest, StopLetsDeliveriesInFlightFinishWithinTheGrace) {
    auto s = settings();
    s.options.shutdown_grace = 20;  // far more than the receiver's 2 s
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/slow/2"), std::nullopt);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (receivers_->webhooks("/hook/slow/2").empty() &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(receivers_->webhooks("/hook/slow/2").size(), 1u);
    ASSERT_EQ(row(id, "webhook").state, "sending");  // the answer is 2 s away
    n.stop();
    const Row r = row(id, "webhook");  // recorded before stop() returned
    EXPECT_EQ(r.state, "delivered");
    EXPECT_EQ(r.response_code, 200);
    EXPECT_EQ(r.attempts, 1);
}

TEST_F(NotifierTest, StopRecordsDeliveriesStillRunningAfterTheGraceAsInterrupted) {
    auto s = settings();
    s.options.webhook_timeout = 30;
    s.options.shutdown_grace = 1;
    RunningNotifier n(s);
    const std::string id = terminal_job(receivers_->https("/hook/hang"), std::nullopt);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    auto seen = [&] {
        for (const auto& w : receivers_->webhooks("/hook/hang")) {
            if (json::parse(w["body"].get<std::string>())["job_id"] == id) return true;
        }
        return false;
    };
    while (!seen() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(seen());
    n.stop();
    // Not left `sending` for a lease to expire: settled by the stopping
    // notifier itself, and not sent again (no retries configured).
    const Row r = row(id, "webhook");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error, db::kInterruptedError);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_FALSE(r.response_code);
}

TEST_F(NotifierTest, RowsClaimedButNotStartedAreReleasedOnStop) {
    // Claimed by a notifier that stopped before sending anything: that is
    // what release_claim undoes, so the next notifier sends it once.
    const std::string id = terminal_job(receivers_->https("/hook/released"), std::nullopt);
    {
        auto claimed = db::claim_notifications(*conn_, "stopping", 60, 10);
        ASSERT_EQ(claimed.size(), 1u);
        EXPECT_FALSE(db::release_claim(*conn_, "someone-else", claimed[0].id));
        EXPECT_TRUE(db::release_claim(*conn_, "stopping", claimed[0].id));
        EXPECT_FALSE(db::release_claim(*conn_, "stopping", claimed[0].id));  // once
    }
    EXPECT_EQ(row(id, "webhook").state, "pending");
    EXPECT_EQ(row(id, "webhook").attempts, 0);
    RunningNotifier n(settings());
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "delivered");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(receivers_->webhooks("/hook/released").size(), 1u);
}

// The connection is lost while claimed rows are prepared (a database
// restart, a failover): none of them was sent, so they are handed back once
// it is back and delivered, not left to their leases (which settle them as
// interrupted: failed, never sent).
TEST_F(NotifierTest, RowsClaimedWhenTheConnectionIsLostAreDeliveredAfterIt) {
    std::vector<std::string> jobs;
    for (int i = 0; i < 3; ++i)
        jobs.push_back(
            terminal_job(receivers_->https("/hook/reconnect-" + std::to_string(i)), std::nullopt));
    // Preparing the first row reads its job, which waits for this lock.
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    RunningNotifier n(settings());
    int pid = 0;
    {
        pqxx::connection watcher(url());
        for (int i = 0; i < 500 && pid == 0; ++i) {
            pqxx::nontransaction tx(watcher);
            const auto r = tx.exec(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'SELECT j.id, j.account_id%'");
            if (!r.empty()) pid = r[0][0].as<int>();
            if (pid == 0) std::this_thread::sleep_for(10ms);
        }
        ASSERT_NE(pid, 0) << "the notifier never read a job";
        pqxx::nontransaction tx(watcher);
        tx.exec_params("SELECT pg_terminate_backend($1)", pid);
    }
    lock_tx.abort();
    for (int i = 0; i < 3; ++i) {
        const Row r = wait_final(jobs[i], "webhook");
        EXPECT_EQ(r.state, "delivered") << i << ": " << r.error.value_or("");
        EXPECT_EQ(r.attempts, 1) << i;
        EXPECT_EQ(receivers_->webhooks("/hook/reconnect-" + std::to_string(i)).size(), 1u) << i;
    }
}

// The database refuses to read a claimed row's job for now (a lock held
// past statement_timeout: a migration, VACUUM FULL; a cancelled
// statement): nothing was sent, so the row is handed back and delivered
// once the database answers again. It used to fail for good as
// "internal_error: the notification could not be prepared".
TEST_F(NotifierTest, ARowWhoseJobTheDatabaseCannotReadNowIsDeliveredLater) {
    const std::string id = terminal_job(receivers_->https("/hook/refused-read"), std::nullopt);
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    auto s = settings();
    s.statement_timeout = 300ms;
    s.poll_interval = 200ms;
    RunningNotifier n(s);
    // Refused at least once while the lock is held: a second read of the
    // job waits for the lock after the first one was cancelled.
    std::set<std::string> reads;
    EXPECT_TRUE(test_support::wait_until(
        [&] {
            pqxx::nontransaction tx(*conn_);
            for (const auto& r : tx.exec("SELECT query_start::text FROM pg_stat_activity "
                                         "WHERE wait_event_type = 'Lock' "
                                         "AND query LIKE 'SELECT j.id, j.account_id%'"))
                reads.insert(r[0].as<std::string>());
            return reads.size() >= 2;
        },
        10s));
    lock_tx.abort();
    const Row r = wait_final(id, "webhook");
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(receivers_->webhooks("/hook/refused-read").size(), 1u);
}

// A row handed back because its job could not be read now is due again
// a poll interval later, after the others: one whose read keeps being
// refused was claimed first on every pass and handed back the rest with it.
TEST_F(NotifierTest, ARowReleasedWithADelayIsDueOnlyAfterIt) {
    const std::string id = terminal_job(receivers_->https("/hook/delayed"), std::nullopt);
    auto claimed = db::claim_notifications(*conn_, "refused", 60, 10);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_TRUE(db::release_claim(*conn_, "refused", claimed[0].id, 60s));
    {
        pqxx::nontransaction tx(*conn_);
        EXPECT_TRUE(tx.exec_params1("SELECT next_attempt_at > now() + interval '59 s' "
                                    "FROM notifications WHERE id = $1",
                                    claimed[0].id)[0]
                        .as<bool>());
    }
    EXPECT_EQ(row(id, "webhook").state, "pending");
    EXPECT_TRUE(db::claim_notifications(*conn_, "other", 60, 10).empty());
}

// A delivery in flight whose answer came in time is delivered, even when
// the notifier's loop was held up past its deadline meanwhile (here by
// the database read of another notification, waiting for a lock): curl's
// own timeout counted the loop's wait and failed it as a timeout though
// the receiver had answered (with retries, it was sent again).
TEST_F(NotifierTest, AnAnswerThatCameInTimeWhileTheLoopWasHeldUpIsDelivered) {
    // The other notification, not yet due.
    const std::string later = terminal_job(receivers_->https("/hook/held-up-later"), std::nullopt);
    {
        pqxx::work tx(*conn_);
        tx.exec_params(
            "UPDATE notifications SET next_attempt_at = now() + interval '1 hour' "
            "WHERE job_id = $1",
            later);
        tx.commit();
    }
    auto s = settings();
    s.options.webhook_timeout = 2;
    s.statement_timeout = 3000ms;  // longer than the webhook's timeout
    RunningNotifier n(s);
    const std::string answered = terminal_job(receivers_->https("/hook/slow/0.3"), std::nullopt);
    ASSERT_TRUE(test_support::wait_until(
        [&] { return !receivers_->webhooks("/hook/slow/0.3").empty(); }, 10s));
    pqxx::connection holder(url());
    pqxx::work lock_tx(holder);
    lock_tx.exec("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE notifications SET next_attempt_at = now() WHERE job_id = $1", later);
        tx.exec("SELECT pg_notify('enconvert_notify', '')");
        tx.commit();
    }
    // The loop now waits for the lock (up to statement_timeout) while the
    // receiver's answer arrives; held past the webhook's 2 s.
    EXPECT_TRUE(test_support::wait_until(
        [&] {
            pqxx::nontransaction tx(*conn_);
            return tx.exec1(
                         "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                         "'Lock' AND query LIKE 'SELECT j.id, j.account_id%' "
                         "AND now() - query_start > interval '2.2 s'")[0]
                       .as<int>() > 0;
        },
        10s));
    lock_tx.abort();
    const Row r = wait_final(answered, "webhook");
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    EXPECT_EQ(r.attempts, 1);
    const Row other = wait_final(later, "webhook");
    EXPECT_EQ(other.state, "delivered") << other.error.value_or("");
    EXPECT_EQ(other.attempts, 1);
}

// The connection lost during the COMMIT that records a delivery: whether it
// went through is unknown (pqxx::in_doubt_error). The outcome is recorded
// again once connected, not dropped: dropped, the row stayed `sending` until
// its lease ran out and was then sent a second time.
TEST_F(NotifierTest, AnOutcomeWhoseCommitWasCutOffIsRecordedOnceConnected) {
    {
        pqxx::work tx(*conn_);
        tx.exec("DROP SEQUENCE IF EXISTS cut_commit; CREATE SEQUENCE cut_commit");
        tx.commit();
    }
    // Ends the first recording transaction's connection at its COMMIT,
    // before it commits (a sequence is not rolled back with it).
    const test_support::JobsTrigger cut(
        url(), "cut_commit", "notifications",
        "CREATE CONSTRAINT TRIGGER cut_commit AFTER UPDATE ON notifications "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.state = 'delivered') "
        "EXECUTE FUNCTION cut_commit()",
        "IF nextval('cut_commit') = 1 THEN "
        "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF;");
    RunningNotifier n(settings());
    const std::string id = terminal_job(receivers_->https("/hook/in-doubt"), std::nullopt);
    const Row r = wait_final(id, "webhook", 10s);
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(receivers_->webhooks("/hook/in-doubt").size(), 1u);
    pqxx::nontransaction tx(*conn_);
    EXPECT_EQ(tx.exec("SELECT last_value FROM cut_commit")[0][0].as<int>(), 2);
}

// The connection is lost while the server commits a claim: the rows are
// the notifier's, but it never learnt which. They were left `sending` until
// their lease ran out and were then settled as interrupted, i.e. failed
// without ever being sent.
TEST_F(NotifierTest, RowsOfAClaimWhoseCommitWasCutOffAreHandedBackAndDelivered) {
    const std::string id = terminal_job(receivers_->https("/hook/claim-in-doubt"), std::nullopt);
    test_support::CommitCutter cutter(url(), "SET state = 'sending'");
    auto s = settings();
    s.database_url = cutter.url();
    RunningNotifier n(s);
    const Row r = wait_final(id, "webhook", 15s);
    EXPECT_TRUE(cutter.cut());
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(receivers_->webhooks("/hook/claim-in-doubt").size(), 1u);
}

// smtp_password_file: the URL names the user, the password comes apart
// from it (settings.smtp_password) and is sent once STARTTLS is up.
TEST_F(NotifierTest, APasswordKeptOutOfTheUrlLogsInOverStartTls) {
    auto s = settings();
    s.smtp_url = "smtp://alice@" + receivers_->smtp_tls_host();
    s.smtp_password = "s3cret-from-file";
    RunningNotifier n(s);
    const std::string id = terminal_job(std::nullopt, std::string("team@example.com"), 1, {});
    const Row r = wait_final(id, "email");
    EXPECT_EQ(r.state, "delivered") << r.error.value_or("");
    const std::vector<nlohmann::json> logins = receivers_->smtp_tls_logins();
    ASSERT_EQ(logins.size(), 1u);
    EXPECT_EQ(logins[0]["login"], "alice");
    EXPECT_EQ(logins[0]["password"], "s3cret-from-file");
    EXPECT_EQ(logins[0]["tls"], true);
}

// A relay URL with credentials: the password is never sent over plain text.
// The sink offers AUTH but no STARTTLS, as a relay looks when someone on the
// path strips its STARTTLS offer; the delivery fails as a TLS error instead.
// `credentials` goes before the sink's host in smtp_url.
void NotifierTest::expect_no_login_without_starttls(notify::NotifierSettings s,
                                                    const std::string& credentials) {
    const std::string plain = receivers_->smtp_url();
    s.smtp_url = "smtp://" + credentials + "@" + plain.substr(std::strlen("smtp://"));
    const std::size_t logins = receivers_->smtp_logins().size();
    const std::size_t mails = receivers_->mails().size();
    RunningNotifier n(s);
    const std::string id = terminal_job(std::nullopt, std::string("team@example.com"), 1, {});
    const Row r = wait_final(id, "email");
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error.value_or("").rfind("tls_error", 0), 0u) << r.error.value_or("");
    EXPECT_EQ(receivers_->smtp_logins().size(), logins);
    EXPECT_EQ(receivers_->mails().size(), mails);
}

TEST_F(NotifierTest, CredentialsAreNeverSentToARelayWithoutStartTls) {
    expect_no_login_without_starttls(settings(), "alice:s3cret-relay");
}

// The same for a password kept out of the URL (smtp_password_file).
TEST_F(NotifierTest, APasswordKeptOutOfTheUrlIsNeverSentWithoutStartTls) {
    auto s = settings();
    s.smtp_password = "s3cret-from-file";
    expect_no_login_without_starttls(s, "alice");
}

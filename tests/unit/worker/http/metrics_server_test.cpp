#include "http/metrics_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "../db/pg_fixture.h"
#include "metrics/worker_metrics.h"

using namespace enconvert;

namespace {

struct Answer {
    long status = 0;
    std::string content_type;
    std::string body;
};

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

Answer fetch(std::uint16_t port, const std::string& path, const char* method = "GET") {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    Answer a;
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method);
    if (std::string(method) == "HEAD") curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &a.body);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
    const CURLcode rc = curl_easy_perform(curl.get());
    EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &a.status);
    char* type = nullptr;
    curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &type);
    if (type) a.content_type = type;
    return a;
}

class MetricsServerTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        server_ = std::make_unique<http::MetricsServer>(http::ListenAddress{"127.0.0.1", 0}, url());
        thread_ = std::thread([this] { server_->run(stop_); });
    }
    void TearDown() override {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

    std::atomic<bool> stop_{false};
    std::unique_ptr<http::MetricsServer> server_;
    std::thread thread_;
};

TEST_F(MetricsServerTest, ServesTheExpositionWithTheDatabaseCounts) {
    metrics::worker_metrics().job_accepted("url-to-screenshot");
    const Answer a = fetch(server_->port(), "/metrics");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(a.body.find("\nenconvert_database_up 1\n"), std::string::npos) << a.body;
    EXPECT_NE(a.body.find("\nenconvert_tasks{state=\"queued\"} 0\n"), std::string::npos);
    EXPECT_NE(a.body.find("enconvert_jobs_accepted_total{endpoint=\"url-to-screenshot\"}"),
              std::string::npos);
}

TEST_F(MetricsServerTest, OtherPathsAndMethodsAreRefused) {
    EXPECT_EQ(fetch(server_->port(), "/").status, 404);
    EXPECT_EQ(fetch(server_->port(), "/metrics/x").status, 404);
    EXPECT_EQ(fetch(server_->port(), "/metrics", "POST").status, 405);
    const Answer head = fetch(server_->port(), "/metrics", "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
}

TEST_F(MetricsServerTest, ATakenPortIsAClearStartupError) {
    try {
        http::MetricsServer second(http::ListenAddress{"127.0.0.1", server_->port()}, url());
        FAIL() << "a second server bound the same port";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("metrics_listen"), std::string::npos) << e.what();
    }
}

TEST(MetricsListenAddress, ParsesIpAndPortOnly) {
    const auto v4 = http::parse_listen_address("127.0.0.1:9469");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 9469);
    const auto v6 = http::parse_listen_address("[::1]:0");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    for (const char* bad : {"", "9469", "localhost:9469", "127.0.0.1:", "127.0.0.1:65536",
                            "127.0.0.1:-1", "::1:9469", "127.0.0.1:94x9"})
        EXPECT_FALSE(http::parse_listen_address(bad)) << bad;
}

}  // namespace

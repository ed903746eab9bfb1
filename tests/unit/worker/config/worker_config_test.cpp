#include "config/worker_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace enconvert::config;
namespace fs = std::filesystem;

namespace {

class TempFile {
  public:
    explicit TempFile(const std::string& content) {
        char tmpl[] = "/tmp/enconvert-cfg-XXXXXX";
        const int fd = mkstemp(tmpl);
        close(fd);
        path_ = tmpl;
        std::ofstream(path_) << content;
    }
    ~TempFile() { fs::remove(path_); }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

const char* kMinimal =
    "database_url = host=/tmp dbname=enconvert\n"
    "listen = ipc:///tmp/w1.sock\n"
    "storage_dir = /tmp/storage\n"
    "signing_secret_file = /tmp/secret\n";

}  // namespace

TEST(WorkerConfig, DefaultsFilledIn) {
    TempFile f(kMinimal);
    const auto c = parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "/r/bin");
    EXPECT_EQ(c.database_url, "host=/tmp dbname=enconvert");
    EXPECT_EQ(c.listen, "ipc:///tmp/w1.sock");
    EXPECT_EQ(c.presign_ttl, 3600);
    EXPECT_EQ(c.renderers, 1);
    EXPECT_EQ(c.views_per_renderer, 2);
    EXPECT_EQ(c.lease_seconds, 20);
    EXPECT_EQ(c.renderer_binary, "/r/bin");
    EXPECT_TRUE(c.display.empty());
    EXPECT_TRUE(c.public_url.empty());
    EXPECT_FALSE(c.worker_id.empty());
    EXPECT_NE(c.worker_id.find('-'), std::string::npos);
}

TEST(WorkerConfig, CommandLineOverridesFile) {
    TempFile f(std::string(kMinimal) + "renderers = 3\npublic_url = https://x.example/\n");
    const auto c = parse_worker_config(
        {"--config", f.path(), "--renderers", "5", "--display", ":7", "--worker_id", "w1"},
        ConfigPurpose::serve, "");
    EXPECT_EQ(c.renderers, 5);
    EXPECT_EQ(c.display, ":7");
    EXPECT_EQ(c.worker_id, "w1");
    EXPECT_EQ(c.public_url, "https://x.example");  // trailing slash dropped
}

TEST(WorkerConfig, CommandLineOnly) {
    const auto c = parse_worker_config({"--database_url", "dbname=x"}, ConfigPurpose::admin, "");
    EXPECT_EQ(c.database_url, "dbname=x");
}

TEST(WorkerConfig, MissingRequiredKeyIsAnError) {
    TempFile f("database_url = dbname=x\nlisten = ipc:///tmp/a\nstorage_dir = /tmp/s\n");
    try {
        parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("signing_secret_file"), std::string::npos);
    }
    EXPECT_THROW(parse_worker_config({}, ConfigPurpose::admin, ""), ConfigError);
}

TEST(WorkerConfig, UnknownKeyAndBadValuesAreErrors) {
    TempFile typo(std::string(kMinimal) + "renderres = 2\n");
    EXPECT_THROW(parse_worker_config({"--config", typo.path()}, ConfigPurpose::serve, ""),
                 ConfigError);
    TempFile bad(std::string(kMinimal) + "renderers = many\n");
    EXPECT_THROW(parse_worker_config({"--config", bad.path()}, ConfigPurpose::serve, ""),
                 ConfigError);
    TempFile zero(std::string(kMinimal) + "renderers = 0\n");
    EXPECT_THROW(parse_worker_config({"--config", zero.path()}, ConfigPurpose::serve, ""),
                 ConfigError);
    EXPECT_THROW(parse_worker_config({"--config", "/nonexistent/x.ini"}, ConfigPurpose::serve, ""),
                 ConfigError);
}

TEST(WorkerConfig, SigningSecretTrimsTrailingWhitespace) {
    const std::string secret(32, 'k');
    TempFile f(secret + "\n\n");
    EXPECT_EQ(read_signing_secret(f.path()), secret);
    TempFile empty("\n");
    EXPECT_THROW(read_signing_secret(empty.path()), ConfigError);
    EXPECT_THROW(read_signing_secret("/nonexistent/secret"), ConfigError);
}

// A short secret can be found by trying, and with it links to every
// tenant's files signed: 31 bytes are refused (a 1-byte one was accepted).
TEST(WorkerConfig, ASigningSecretShorterThan32BytesIsRefused) {
    TempFile short_secret(std::string(31, 'k') + "\n");
    try {
        read_signing_secret(short_secret.path());
        ADD_FAILURE() << "a 31-byte secret was accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()), "signing_secret_file '" + short_secret.path() +
                                             "' holds 31 bytes, at least 32 are needed (e.g. "
                                             "`openssl rand -hex 32`)");
    }
}

// smtp_password_file names the password of smtp_url's user: the URL must
// name the user and carry no password of its own.
TEST(WorkerConfig, SmtpPasswordFileGoesWithAUserInTheUrl) {
    TempFile f(kMinimal);
    auto parse = [&](const std::string& url) {
        return parse_worker_config({"--config", f.path(), "--smtp_url", url, "--smtp_password_file",
                                    "/run/credentials/x/smtp"},
                                   ConfigPurpose::serve, "");
    };
    EXPECT_EQ(parse("smtps://alice@mail.example.com").smtp_password_file,
              "/run/credentials/x/smtp");
    EXPECT_EQ(parse("smtp://alice@127.0.0.1:587").smtp_url, "smtp://alice@127.0.0.1:587");
    for (const char* url : {"smtps://mail.example.com", "", "not a url"}) {
        try {
            parse(url);
            ADD_FAILURE() << "accepted without a user: " << url;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("user name"), std::string::npos) << e.what();
        }
    }
    try {
        parse("smtps://alice:other@mail.example.com");
        ADD_FAILURE() << "accepted two passwords";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("carries a password"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "")
                    .smtp_password_file.empty());
}

TEST(WorkerConfig, SecretFilesTrimTrailingWhitespace) {
    TempFile f("pass word \n");
    EXPECT_EQ(read_secret_file(f.path(), "smtp_password_file"), "pass word");
    TempFile empty(" \n");
    try {
        read_secret_file(empty.path(), "smtp_password_file");
        ADD_FAILURE() << "an empty password file accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("smtp_password_file"), std::string::npos) << e.what();
    }
    EXPECT_THROW(read_secret_file("/nonexistent/password", "smtp_password_file"), ConfigError);
}

TEST(WorkerConfig, RetryAndStorageSettings) {
    TempFile f(kMinimal);
    auto c = parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "");
    EXPECT_EQ(c.max_attempts, 3);
    EXPECT_EQ(c.storage_min_free_mb, 256);
    EXPECT_EQ(c.storage_full_retry_seconds, 30);
    EXPECT_EQ(c.storage_full_give_up_seconds, 86400);
    EXPECT_TRUE(c.schema_dir.empty());
    c = parse_worker_config({"--config", f.path(), "--max_attempts", "5", "--storage_min_free_mb",
                             "0", "--schema_dir", "/s"},
                            ConfigPurpose::serve, "");
    EXPECT_EQ(c.max_attempts, 5);
    EXPECT_EQ(c.storage_min_free_mb, 0);
    EXPECT_EQ(c.schema_dir, "/s");
    EXPECT_THROW(parse_worker_config({"--config", f.path(), "--max_attempts", "0"},
                                     ConfigPurpose::serve, ""),
                 ConfigError);
}

// The configuration the package installs as /etc/enconvert/worker.conf is
// accepted as it is, and says what the packaged layout needs.
TEST(WorkerConfig, PackagedConfigurationParses) {
    const fs::path conf = fs::path(__FILE__).parent_path() / "../../../../conf/worker.conf";
    const auto c = parse_worker_config({"--config", conf.string()}, ConfigPurpose::serve, "/r");
    EXPECT_EQ(c.database_url, "host=/var/run/postgresql dbname=enconvert user=enconvert");
    EXPECT_EQ(c.listen, "ipc:///run/enconvert/worker.sock");
    EXPECT_EQ(c.storage_dir, "/var/lib/enconvert/storage");
    EXPECT_EQ(c.signing_secret_file, "/etc/enconvert/secret");
    EXPECT_EQ(c.renderer_binary, "/r");
    EXPECT_EQ(c.presign_ttl, 3600);
}

TEST(WorkerConfig, LogLevelAndMetricsListenHaveDefaultsAndAreChecked) {
    TempFile f(kMinimal);
    const auto c = parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "");
    EXPECT_EQ(c.log_level, "info");
    EXPECT_EQ(c.metrics_listen, "127.0.0.1:9469");
    const auto off = parse_worker_config({"--config", f.path(), "--metrics_listen", ""},
                                         ConfigPurpose::serve, "");
    EXPECT_TRUE(off.metrics_listen.empty());
    for (const auto& [key, value] :
         {std::pair{"--log_level", "loud"}, std::pair{"--metrics_listen", "localhost:9469"},
          std::pair{"--metrics_listen", "127.0.0.1"}}) {
        try {
            parse_worker_config({"--config", f.path(), key, value}, ConfigPurpose::serve, "");
            ADD_FAILURE() << key << " " << value << " accepted";
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(std::string(key).substr(2)), std::string::npos)
                << e.what();
        }
    }
}

TEST(WorkerConfig, WebProcessSandboxIsAutoByDefaultAndChecked) {
    TempFile f(kMinimal);
    EXPECT_EQ(
        parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "").web_process_sandbox,
        "auto");
    for (const char* mode : {"on", "off", "auto"})
        EXPECT_EQ(parse_worker_config({"--config", f.path(), "--web_process_sandbox", mode},
                                      ConfigPurpose::serve, "")
                      .web_process_sandbox,
                  mode);
    try {
        parse_worker_config({"--config", f.path(), "--web_process_sandbox", "yes"},
                            ConfigPurpose::serve, "");
        ADD_FAILURE() << "web_process_sandbox = yes accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("web_process_sandbox"), std::string::npos) << e.what();
    }
}

TEST(WorkerConfig, FairnessAndQueueBounds) {
    TempFile f(kMinimal);
    auto c = parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "");
    EXPECT_EQ(c.account_max_in_flight, 0);
    EXPECT_EQ(c.queue_max_tasks, 100000);
    EXPECT_EQ(c.account_queue_max_tasks, 10000);
    c = parse_worker_config({"--config", f.path(), "--account_max_in_flight", "4",
                             "--queue_max_tasks", "0", "--account_queue_max_tasks", "50"},
                            ConfigPurpose::serve, "");
    EXPECT_EQ(c.account_max_in_flight, 4);
    EXPECT_EQ(c.queue_max_tasks, 0);
    EXPECT_EQ(c.account_queue_max_tasks, 50);
    for (const char* key :
         {"--account_max_in_flight", "--queue_max_tasks", "--account_queue_max_tasks"}) {
        EXPECT_THROW(
            parse_worker_config({"--config", f.path(), key, "-1"}, ConfigPurpose::serve, ""),
            ConfigError)
            << key;
    }
}

TEST(WorkerConfig, IntakeThreads) {
    TempFile f(kMinimal);
    EXPECT_EQ(parse_worker_config({"--config", f.path()}, ConfigPurpose::serve, "").intake_threads,
              1);
    EXPECT_EQ(parse_worker_config({"--config", f.path(), "--intake_threads", "3"},
                                  ConfigPurpose::serve, "")
                  .intake_threads,
              3);
    for (const char* bad : {"0", "65", "two"}) {
        EXPECT_THROW(parse_worker_config({"--config", f.path(), "--intake_threads", bad},
                                         ConfigPurpose::serve, ""),
                     ConfigError)
            << bad;
    }
}

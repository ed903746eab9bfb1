#include "storage/storage_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include "config/worker_config.h"

using namespace enconvert;
using config::ConfigError;
using config::ConfigPurpose;

namespace {

const std::vector<std::string> kRequired = {"--database_url",        "host=/tmp",     "--listen",
                                            "ipc:///tmp/w.sock",     "--storage_dir", "/tmp/s",
                                            "--signing_secret_file", "/tmp/secret"};

const std::vector<std::string> kS3 = {"--storage_backend",
                                      "s3",
                                      "--s3_endpoint",
                                      "http://127.0.0.1:9000",
                                      "--s3_region",
                                      "us-east-1",
                                      "--s3_bucket",
                                      "results",
                                      "--s3_access_key_id",
                                      "id",
                                      "--s3_secret_access_key",
                                      "secret"};

config::WorkerConfig parse(std::vector<std::string> extra,
                           ConfigPurpose purpose = ConfigPurpose::serve) {
    std::vector<std::string> args = kRequired;
    args.insert(args.end(), extra.begin(), extra.end());
    return config::parse_worker_config(args, purpose, "/r");
}

// kS3 with some values replaced or added: {"--key", "value", ...}.
std::vector<std::string> s3_with(std::vector<std::string> over) {
    std::vector<std::string> args = kS3;
    for (std::size_t i = 0; i + 1 < over.size(); i += 2) {
        const auto it = std::find(args.begin(), args.end(), over[i]);
        if (it == args.end()) {
            args.push_back(over[i]);
            args.push_back(over[i + 1]);
        } else {
            *(it + 1) = over[i + 1];
        }
    }
    return args;
}

// Unsets the credential variables for a test and restores them after.
class CleanEnv : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* n : kNames) {
            if (const char* v = getenv(n)) saved_.emplace_back(n, v);
            unsetenv(n);
        }
    }
    void TearDown() override {
        for (const char* n : kNames) unsetenv(n);
        for (const auto& [n, v] : saved_) setenv(n.c_str(), v.c_str(), 1);
    }

  private:
    static constexpr const char* kNames[] = {"ENCONVERT_S3_ACCESS_KEY_ID",
                                             "ENCONVERT_S3_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY"};
    std::vector<std::pair<std::string, std::string>> saved_;
};

using StorageConfig = CleanEnv;

}  // namespace

TEST_F(StorageConfig, LocalByDefault) {
    const auto c = parse({});
    EXPECT_EQ(c.storage.backend, "local");
    EXPECT_FALSE(c.storage.s3_backend());
}

TEST_F(StorageConfig, S3KeysAndDefaults) {
    const auto c = parse(kS3);
    ASSERT_TRUE(c.storage.s3_backend());
    EXPECT_EQ(c.storage.s3.endpoint, "http://127.0.0.1:9000");
    EXPECT_EQ(c.storage.s3.region, "us-east-1");
    EXPECT_EQ(c.storage.s3.bucket, "results");
    EXPECT_TRUE(c.storage.s3.path_style);
    EXPECT_EQ(c.storage.s3.access_key_id, "id");
    EXPECT_EQ(c.storage.s3.secret_access_key, "secret");
    EXPECT_EQ(c.storage.s3.multipart_threshold_mb, 16);
    EXPECT_EQ(c.storage.s3.part_size_mb, 16);
    EXPECT_EQ(c.storage.s3.upload_attempts, 3);
    const auto v = parse(s3_with({"--s3_path_style", "false", "--s3_bucket", "my-bucket",
                                  "--s3_multipart_threshold_mb", "1", "--s3_part_size_mb", "2",
                                  "--s3_upload_attempts", "5"}));
    EXPECT_FALSE(v.storage.s3.path_style);
    EXPECT_EQ(v.storage.s3.multipart_threshold_mb, 1);
    EXPECT_EQ(v.storage.s3.part_size_mb, 2);
    EXPECT_EQ(v.storage.s3.upload_attempts, 5);
}

TEST_F(StorageConfig, CredentialsFromTheEnvironment) {
    const std::vector<std::string> no_creds(kS3.begin(), kS3.end() - 4);
    setenv("AWS_ACCESS_KEY_ID", "aws-id", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "aws-secret", 1);
    auto c = parse(no_creds);
    EXPECT_EQ(c.storage.s3.access_key_id, "aws-id");
    EXPECT_EQ(c.storage.s3.secret_access_key, "aws-secret");
    // ENCONVERT_S3_* wins over AWS_*, the config file over both.
    setenv("ENCONVERT_S3_ACCESS_KEY_ID", "enc-id", 1);
    setenv("ENCONVERT_S3_SECRET_ACCESS_KEY", "enc-secret", 1);
    c = parse(no_creds);
    EXPECT_EQ(c.storage.s3.access_key_id, "enc-id");
    EXPECT_EQ(c.storage.s3.secret_access_key, "enc-secret");
    c = parse(kS3);
    EXPECT_EQ(c.storage.s3.access_key_id, "id");
}

TEST_F(StorageConfig, MissingOrBadSettingsAreRefusedByName) {
    const auto message = [](std::vector<std::string> args) {
        try {
            parse(args);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message({"--storage_backend", "nfs"}).find("'storage_backend'"), std::string::npos);
    EXPECT_NE(message({"--storage_backend", "s3"}).find("'s3_endpoint'"), std::string::npos);
    const std::vector<std::string> no_secret(kS3.begin(), kS3.end() - 2);
    const std::string secret_missing = message(no_secret);
    EXPECT_NE(secret_missing.find("'s3_secret_access_key'"), std::string::npos);
    EXPECT_NE(secret_missing.find("ENCONVERT_S3_SECRET_ACCESS_KEY"), std::string::npos);
    EXPECT_NE(message(s3_with({"--s3_endpoint", "s3.example.com"})).find("'s3_endpoint'"),
              std::string::npos);
    EXPECT_NE(message(s3_with({"--s3_region", "US East"})).find("'s3_region'"), std::string::npos);
    EXPECT_NE(message(s3_with({"--s3_upload_attempts", "0"})).find("'s3_upload_attempts'"),
              std::string::npos);
    EXPECT_NE(message(s3_with({"--s3_part_size_mb", "0"})).find("'s3_part_size_mb'"),
              std::string::npos);
    // A refusal never repeats the secret.
    EXPECT_EQ(message(s3_with({"--s3_region", "US East"})).find("secret"), std::string::npos);
}

TEST_F(StorageConfig, AdminCommandsDoNotNeedS3Settings) {
    EXPECT_NO_THROW(parse({"--storage_backend", "s3"}, ConfigPurpose::admin));
}

#include "config/curve_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/worker_config.h"

using namespace enconvert::config;
namespace fs = std::filesystem;

namespace {

class TempFile {
  public:
    explicit TempFile(const std::string& content) {
        char tmpl[] = "/tmp/enconvert-curve-XXXXXX";
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

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(CurveKeys, Z85KeyShape) {
    EXPECT_TRUE(is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"));
    EXPECT_FALSE(is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf"));    // 39
    EXPECT_FALSE(is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7x"));  // 41
    EXPECT_FALSE(is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]y f7"));  // space
    EXPECT_FALSE(is_z85_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]y\"f"));  // quote
}

TEST(CurveKeys, SecretKeyFileGivesItsPublicKey) {
    ASSERT_TRUE(curve_supported());
    const CurveKeyPair keys = generate_curve_keypair();
    EXPECT_TRUE(is_z85_key(keys.public_key));
    EXPECT_TRUE(is_z85_key(keys.secret_key));
    TempFile f(keys.secret_key + "\n\n");
    const CurveKeyPair read = read_curve_secret_key_file(f.path(), "curve_secret_key_file");
    EXPECT_EQ(read.secret_key, keys.secret_key);
    EXPECT_EQ(read.public_key, keys.public_key);
}

TEST(CurveKeys, BadSecretKeyFilesNameTheSettingNotTheContent) {
    TempFile short_key("not-a-key-but-secret-looking");
    const std::string e =
        error_of([&] { read_curve_secret_key_file(short_key.path(), "curve_secret_key_file"); });
    EXPECT_NE(e.find("curve_secret_key_file"), std::string::npos) << e;
    EXPECT_EQ(e.find("secret-looking"), std::string::npos) << e;
    EXPECT_NE(error_of([] {
                  read_curve_secret_key_file("/nonexistent/k", "curve_secret_key_file");
              }).find("cannot read"),
              std::string::npos);
}

TEST(CurveKeys, AllowedClientsFileKeysAndComments) {
    const auto a = generate_curve_keypair().public_key;
    const auto b = generate_curve_keypair().public_key;
    TempFile f("# nginx-a\n" + a + "\n\n  " + b + "  \n#\n" + a + "\n");
    const auto keys = read_curve_allowed_clients(f.path());
    EXPECT_EQ(keys, (std::set<std::string>{a, b}));
}

TEST(CurveKeys, AllowedClientsFileErrorsNameTheLine) {
    const auto a = generate_curve_keypair().public_key;
    TempFile bad(a + "\n#comment without a space\n");
    const std::string e = error_of([&] { read_curve_allowed_clients(bad.path()); });
    EXPECT_NE(e.find("curve_allowed_clients_file"), std::string::npos) << e;
    EXPECT_NE(e.find("line 2"), std::string::npos) << e;
    TempFile empty("# nobody yet\n\n");
    EXPECT_NE(error_of([&] { read_curve_allowed_clients(empty.path()); }).find("no client key"),
              std::string::npos);
    EXPECT_THROW(read_curve_allowed_clients("/nonexistent/allowed"), ConfigError);
}

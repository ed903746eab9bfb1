#include "admin/curve_keygen_command.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/curve_keys.h"

using namespace enconvert;
namespace fs = std::filesystem;

namespace {

class KeygenTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/enconvert-keygen-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    static mode_t mode_of(const fs::path& p) {
        struct stat st {};
        EXPECT_EQ(stat(p.c_str(), &st), 0);
        return st.st_mode & 0777;
    }
    static std::string first_line(const fs::path& p) {
        std::ifstream in(p);
        std::string line;
        std::getline(in, line);
        return line;
    }
    fs::path dir_;
};

}  // namespace

TEST_F(KeygenTest, WritesAPairThatBelongsTogether) {
    std::ostringstream out, err;
    const fs::path secret = dir_ / "nginx-a";
    ASSERT_EQ(admin::run_curve_keygen_command({"--out", secret.string()}, out, err), 0)
        << err.str();
    EXPECT_EQ(mode_of(secret), 0600u);
    EXPECT_EQ(mode_of(dir_ / "nginx-a.pub"), 0644u);
    const std::string pub = first_line(dir_ / "nginx-a.pub");
    // The public key is the last line of the output, and the secret's own.
    std::string last, line;
    std::istringstream lines(out.str());
    while (std::getline(lines, line)) last = line;
    EXPECT_EQ(last, pub);
    EXPECT_EQ(config::read_curve_secret_key_file(secret.string(), "k").public_key, pub);
    EXPECT_EQ(out.str().find(first_line(secret)), std::string::npos) << "secret printed";
}

TEST_F(KeygenTest, NeverOverwritesAndChecksUsage) {
    std::ostringstream out, err;
    const fs::path secret = dir_ / "w";
    ASSERT_EQ(admin::run_curve_keygen_command({"--out", secret.string()}, out, err), 0);
    const std::string before = first_line(secret);
    EXPECT_EQ(admin::run_curve_keygen_command({"--out", secret.string()}, out, err), 1);
    EXPECT_NE(err.str().find("exists"), std::string::npos) << err.str();
    EXPECT_EQ(first_line(secret), before);
    // Only the secret exists: nothing is written, no stray .pub is left.
    fs::remove(dir_ / "w.pub");
    EXPECT_EQ(admin::run_curve_keygen_command({"--out", secret.string()}, out, err), 1);
    EXPECT_FALSE(fs::exists(dir_ / "w.pub"));
    EXPECT_EQ(admin::run_curve_keygen_command({}, out, err), 2);
    EXPECT_EQ(admin::run_curve_keygen_command({"--out"}, out, err), 2);
}

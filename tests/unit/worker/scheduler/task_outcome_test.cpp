#include "scheduler/task_outcome.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace enconvert;
namespace fs = std::filesystem;

namespace {

class TaskOutcomeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/enconvert-store-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        storage_ = std::make_unique<storage::LocalStorage>(root_);
    }
    void TearDown() override { fs::remove_all(root_); }

    fs::path write_temp(const std::string& content) {
        const fs::path p = storage_->temp_dir() / "task-7-x.pdf";
        std::ofstream(p) << content;
        return p;
    }

    db::ClaimedTask task() {
        db::ClaimedTask t;
        t.task_id = 7;
        t.job_id = "job_1";
        t.url = "https://www.example.com/a";
        t.endpoint = "url-to-pdf";
        t.account_public_id = "abc123";
        return t;
    }

    fs::path root_;
    std::unique_ptr<storage::LocalStorage> storage_;
};

}  // namespace

TEST(ConversionSeconds, RoundsToTwoDecimals) {
    EXPECT_DOUBLE_EQ(scheduler::conversion_seconds(3724.9), 3.72);
    EXPECT_DOUBLE_EQ(scheduler::conversion_seconds(3725.1), 3.73);
    EXPECT_DOUBLE_EQ(scheduler::conversion_seconds(0), 0.0);
    EXPECT_DOUBLE_EQ(scheduler::conversion_seconds(-5), 0.0);
}

TEST_F(TaskOutcomeTest, SuccessStoresFileUnderObjectKey) {
    const fs::path temp = write_temp("%PDF-1.7 hello");
    render::RenderResult r;
    r.id = 7;
    r.ok = true;
    r.render_ms = 1234.0;
    const auto now = std::chrono::system_clock::from_time_t(1767225600);
    const db::TaskOutcome o = scheduler::make_outcome(task(), r, *storage_, temp, now);
    ASSERT_TRUE(o.ok) << o.error;
    EXPECT_EQ(o.object_key, "live/files/abc123/url-to-pdf/www-example-com_20260101T000000Z_7.pdf");
    EXPECT_EQ(o.filename, "www-example-com.pdf");
    EXPECT_EQ(o.file_size, 14);
    EXPECT_DOUBLE_EQ(o.conversion_time, 1.23);
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_TRUE(fs::exists(root_ / o.object_key));
}

TEST_F(TaskOutcomeTest, OutputFilenameIsUsed) {
    const fs::path temp = write_temp("x");
    auto t = task();
    t.endpoint = "url-to-screenshot";
    t.options = {{"output_filename", "My Report"}, {"image_format", "jpeg"}};
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(t, r, *storage_, temp, std::chrono::system_clock::now());
    ASSERT_TRUE(o.ok);
    EXPECT_EQ(o.filename, "My_Report.jpg");
    EXPECT_NE(o.object_key.find("/url-to-screenshot/My_Report_"), std::string::npos);
}

TEST_F(TaskOutcomeTest, FailureRemovesTempFileAndKeepsError) {
    const fs::path temp = write_temp("partial");
    render::RenderResult r;
    r.ok = false;
    r.error_code = "dns_error";
    r.error = "Failed to load page: host not found";
    const auto o =
        scheduler::make_outcome(task(), r, *storage_, temp, std::chrono::system_clock::now());
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.error_code, "dns_error");
    EXPECT_EQ(o.error, "Failed to load page: host not found");
    EXPECT_TRUE(o.object_key.empty());
    EXPECT_FALSE(fs::exists(temp));
}

TEST_F(TaskOutcomeTest, MissingFileIsStorageFailure) {
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(task(), r, *storage_, storage_->temp_dir() / "nope.pdf",
                                           std::chrono::system_clock::now());
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.error_code, "storage_failed");
}

#include "scheduler/task_outcome.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/local_storage.h"

using namespace enconvert;
namespace fs = std::filesystem;

namespace {

// Smallest files whose both ends are what a complete file has.
const std::string kPdf = "%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const std::string kJpeg = std::string("\xff\xd8\xff\xe0 body \xff\xd9", 12);

class TaskOutcomeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/enconvert-store-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        storage_ = std::make_unique<storage::LocalStorage>(root_);
    }

    render::RenderResult crash(bool renderer_lost) {
        render::RenderResult r;
        r.ok = false;
        r.renderer_lost = renderer_lost;
        r.error_code = renderer_lost ? "renderer_crashed" : "web_process_crashed";
        r.error = "Failed to render page: crashed";
        return r;
    }

    // The storage's file system counts as full whatever is free on it.
    std::unique_ptr<storage::LocalStorage> full_storage() {
        return std::make_unique<storage::LocalStorage>(root_, std::uint64_t{1} << 62);
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
        t.key_stamp = "20260101T000000Z";  // the job's creation
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
    const fs::path temp = write_temp(kPdf);
    render::RenderResult r;
    r.id = 7;
    r.ok = true;
    r.render_ms = 1234.0;
    r.size = static_cast<std::int64_t>(kPdf.size());
    const db::TaskOutcome o = scheduler::make_outcome(task(), r, *storage_, temp);
    ASSERT_TRUE(o.ok) << o.error;
    EXPECT_EQ(o.object_key, "live/files/abc123/url-to-pdf/www-example-com_20260101T000000Z_7.pdf");
    EXPECT_EQ(o.filename, "www-example-com.pdf");
    EXPECT_EQ(o.file_size, static_cast<std::int64_t>(kPdf.size()));
    EXPECT_DOUBLE_EQ(o.conversion_time, 1.23);
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_TRUE(fs::exists(root_ / o.object_key));
}

TEST_F(TaskOutcomeTest, TwoClaimsStoreApartAndTheLoserRemovesOnlyItsOwn) {
    // Claim 1 lost its lease while storing; claim 2 (another worker) stored
    // and recorded its file. The scheduler removes what a refused outcome
    // stored (Scheduler::record_outcome): with one key for both, the
    // second's rename replaced the first's file and the first's removal
    // deleted the recorded file.
    render::RenderResult r;
    r.ok = true;
    r.size = static_cast<std::int64_t>(kPdf.size());
    auto first = task();
    first.claim = 1;
    auto second = task();
    second.claim = 2;
    second.attempts = 1;  // an attempt given back in between: claims still differ
    const db::TaskOutcome lost = scheduler::make_outcome(first, r, *storage_, write_temp(kPdf));
    const db::TaskOutcome won = scheduler::make_outcome(second, r, *storage_, write_temp(kPdf));
    ASSERT_TRUE(lost.ok && won.ok);
    EXPECT_EQ(won.object_key,
              "live/files/abc123/url-to-pdf/www-example-com_20260101T000000Z_7-2.pdf");
    storage_->remove(lost.object_key);
    EXPECT_TRUE(fs::exists(root_ / won.object_key));
    EXPECT_FALSE(fs::exists(root_ / lost.object_key));
}

// An object store that kept the file but whose answer was lost: the store
// fails, and no row will ever name the object for retention to remove.
class KeepsButFails : public storage::Storage {
  public:
    explicit KeepsButFails(const fs::path& root) : local_(root) {}
    const fs::path& temp_dir() const override { return local_.temp_dir(); }
    std::uint64_t store(const fs::path& temp_file, const std::string& key, std::string_view format,
                        std::int64_t expected_size) override {
        local_.store(temp_file, key, format, expected_size);
        stored = key;
        throw storage::StorageError("the object store could not be reached (timeout)", false);
    }
    void fetch(const std::string& key, const fs::path& dest) override { local_.fetch(key, dest); }
    bool has_room_for(std::uint64_t) const override { return true; }
    void remove(const std::string& key) noexcept override { local_.remove(key); }
    void erase(const std::string& key) override { local_.erase(key); }
    std::string stored;

  private:
    storage::LocalStorage local_;
};

TEST_F(TaskOutcomeTest, AStoreThatFailedLeavesNoObjectBehind) {
    KeepsButFails store(root_);
    const fs::path temp = write_temp(kPdf);
    render::RenderResult r;
    r.id = 7;
    r.ok = true;
    r.size = static_cast<std::int64_t>(kPdf.size());
    const db::TaskOutcome o = scheduler::make_outcome(task(), r, store, temp);
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.error_code, "storage_error");
    ASSERT_FALSE(store.stored.empty());
    EXPECT_FALSE(fs::exists(root_ / store.stored));
}

TEST_F(TaskOutcomeTest, OutputFilenameIsUsed) {
    const fs::path temp = write_temp(kJpeg);
    auto t = task();
    t.endpoint = "url-to-screenshot";
    t.options = {{"output_filename", "My Report"}, {"image_format", "jpeg"}};
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(t, r, *storage_, temp);
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
    const auto o = scheduler::make_outcome(task(), r, *storage_, temp);
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.error_code, "dns_error");
    EXPECT_EQ(o.error, "Failed to load page: host not found");
    EXPECT_TRUE(o.object_key.empty());
    EXPECT_FALSE(fs::exists(temp));
}

TEST_F(TaskOutcomeTest, MissingFileIsStorageFailure) {
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(task(), r, *storage_, storage_->temp_dir() / "nope.pdf");
    EXPECT_FALSE(o.ok);
    EXPECT_FALSE(o.retry);
    EXPECT_EQ(o.error_code, "storage_error");
}

TEST_F(TaskOutcomeTest, TruncatedFileIsNeverStored) {
    const fs::path temp = write_temp(kPdf.substr(0, kPdf.size() - 7));  // lost its %%EOF
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(task(), r, *storage_, temp);
    EXPECT_FALSE(o.ok);
    EXPECT_FALSE(o.retry);
    EXPECT_EQ(o.error_code, "storage_error");
    EXPECT_EQ(o.error,
              "The rendered file could not be stored: the rendered file is incomplete "
              "(no end-of-file marker).");
    EXPECT_TRUE(o.object_key.empty());
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(root_ / "live"));  // nothing stored
}

TEST_F(TaskOutcomeTest, EmptyFileIsNeverStored) {
    const fs::path temp = write_temp("");
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(task(), r, *storage_, temp);
    EXPECT_EQ(o.error_code, "storage_error");
    EXPECT_NE(o.error.find("empty file"), std::string::npos) << o.error;
    EXPECT_FALSE(fs::exists(temp));
}

TEST_F(TaskOutcomeTest, FileOfAnotherSizeThanWrittenIsNeverStored) {
    const fs::path temp = write_temp(kPdf);
    render::RenderResult r;
    r.ok = true;
    r.size = static_cast<std::int64_t>(kPdf.size()) + 4096;
    const auto o = scheduler::make_outcome(task(), r, *storage_, temp);
    EXPECT_EQ(o.error_code, "storage_error");
    EXPECT_FALSE(fs::exists(temp));
}

TEST_F(TaskOutcomeTest, IncompleteFileOnFullStorageWaitsForRoom) {
    storage_ = full_storage();
    const fs::path temp = write_temp(kPdf.substr(0, 20));
    render::RenderResult r;
    r.ok = true;
    const auto o = scheduler::make_outcome(task(), r, *storage_, temp, {3, 45});
    EXPECT_FALSE(o.ok);
    EXPECT_TRUE(o.retry);
    EXPECT_FALSE(o.count_attempt);
    EXPECT_EQ(o.retry_after_seconds, 45);
    EXPECT_EQ(o.error_code, "storage_full");
    EXPECT_FALSE(fs::exists(temp));
}

TEST_F(TaskOutcomeTest, RendererFindingStorageFullWaitsForRoom) {
    render::RenderResult r;
    r.ok = false;
    r.error_code = "print_failed";
    r.error = "Failed to print page: Error writing to file";
    auto o = scheduler::make_outcome(task(), r, *storage_, storage_->temp_dir() / "x.pdf");
    EXPECT_FALSE(o.retry);  // the print's own failure
    EXPECT_EQ(o.error_code, "print_failed");
    r.error_code = "storage_full";
    o = scheduler::make_outcome(task(), r, *storage_, storage_->temp_dir() / "x.pdf", {3, 7});
    EXPECT_TRUE(o.retry);
    EXPECT_FALSE(o.count_attempt);
    EXPECT_EQ(o.retry_after_seconds, 7);
    EXPECT_EQ(o.error_code, "storage_full");
}

TEST_F(TaskOutcomeTest, AFullStorageFailsTheTaskOnceItHasWaitedLongEnough) {
    render::RenderResult r;
    r.error_code = "storage_full";
    auto t = task();
    t.storage_full_seconds = 99.5;
    auto o = scheduler::make_outcome(t, r, *storage_, storage_->temp_dir() / "x.pdf", {3, 7, 100});
    EXPECT_TRUE(o.retry);
    t.storage_full_seconds = 100;
    o = scheduler::make_outcome(t, r, *storage_, storage_->temp_dir() / "x.pdf", {3, 7, 100});
    EXPECT_FALSE(o.retry);
    EXPECT_FALSE(o.ok);
    EXPECT_EQ(o.error_code, "storage_full");
    EXPECT_NE(o.error.find("(100 s)"), std::string::npos) << o.error;
    // 0: no bound.
    t.storage_full_seconds = 1e9;
    o = scheduler::make_outcome(t, r, *storage_, storage_->temp_dir() / "x.pdf", {3, 7, 0});
    EXPECT_TRUE(o.retry);
}

TEST_F(TaskOutcomeTest, ARendererStoppedFromOutsideCostsNoAttempt) {
    render::RenderResult r;
    r.error_code = "renderer_stopped";
    r.renderer_stopped = true;
    auto t = task();
    t.attempts = 3;  // the last one: still not a failure
    const auto o = scheduler::make_outcome(t, r, *storage_, storage_->temp_dir() / "x.pdf", {3, 7});
    EXPECT_TRUE(o.retry);
    EXPECT_FALSE(o.count_attempt);
    EXPECT_FALSE(o.run_alone);
    EXPECT_EQ(o.error_code, "renderer_stopped");
}

TEST_F(TaskOutcomeTest, LostRendererIsRetriedAloneWhileAttemptsRemain) {
    auto t = task();
    t.attempts = 1;
    auto o =
        scheduler::make_outcome(t, crash(true), *storage_, storage_->temp_dir() / "x.pdf", {3, 30});
    EXPECT_TRUE(o.retry);
    EXPECT_TRUE(o.run_alone);
    EXPECT_TRUE(o.count_attempt);
    EXPECT_EQ(o.retry_after_seconds, 0);
    t.attempts = 3;
    o = scheduler::make_outcome(t, crash(true), *storage_, storage_->temp_dir() / "x.pdf", {3, 30});
    EXPECT_FALSE(o.retry);
    EXPECT_EQ(o.error_code, "renderer_crashed");
    EXPECT_EQ(o.error, "Failed to render page: it crashed the renderer on each of 3 attempts.");
}

TEST_F(TaskOutcomeTest, CrashedWebProcessIsRetriedAmongOthers) {
    auto t = task();
    t.attempts = 2;
    auto o = scheduler::make_outcome(t, crash(false), *storage_, storage_->temp_dir() / "x.pdf",
                                     {3, 30});
    EXPECT_TRUE(o.retry);
    EXPECT_FALSE(o.run_alone);  // only its own web process died
    t.attempts = 3;
    o = scheduler::make_outcome(t, crash(false), *storage_, storage_->temp_dir() / "x.pdf",
                                {3, 30});
    EXPECT_FALSE(o.retry);
    EXPECT_EQ(o.error_code, "web_process_crashed");
    EXPECT_EQ(o.error, "Failed to render page: crashed (on each of 3 attempts)");
}

// The renderer child answers renderer_crashed itself when one of a view's
// callbacks failed on the page (callback_guard.h): retried like a crash,
// among the other jobs (the child and its other views lived on).
TEST_F(TaskOutcomeTest, ARendererFaultTheChildAnsweredIsRetriedAmongOthers) {
    auto t = task();
    t.attempts = 1;
    render::RenderResult r;
    r.error_code = "renderer_crashed";
    r.error = "Failed to render page: the renderer failed on it";
    auto o = scheduler::make_outcome(t, r, *storage_, storage_->temp_dir() / "x.pdf", {3, 30});
    EXPECT_TRUE(o.retry);
    EXPECT_FALSE(o.run_alone);
    EXPECT_TRUE(o.count_attempt);
    t.attempts = 3;
    o = scheduler::make_outcome(t, r, *storage_, storage_->temp_dir() / "x.pdf", {3, 30});
    EXPECT_FALSE(o.retry);
    EXPECT_EQ(o.error_code, "renderer_crashed");
    EXPECT_EQ(o.error, "Failed to render page: the renderer failed on it (on each of 3 attempts)");
}

#include "scheduler/batch_archiver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "../../support/wait_until.h"
#include "../../support/zip_read.h"
#include "../db/pg_fixture.h"
#include "auth/api_keys.h"
#include "db/batch_archives.h"
#include "db/job_repository.h"
#include "db/key_repository.h"
#include "db/retention.h"
#include "db/site_discoveries.h"
#include "janitor/janitor.h"
#include "storage/local_storage.h"
#include "util/ids.h"

using namespace enconvert;
namespace fs = std::filesystem;
using nlohmann::json;

using namespace std::chrono_literals;

namespace {

// The local backend, each of the wrappers below changing one thing.
class LocalBackend : public storage::Storage {
  public:
    explicit LocalBackend(storage::LocalStorage& inner) : inner_(inner) {}
    const fs::path& temp_dir() const override { return inner_.temp_dir(); }
    std::uint64_t store(const fs::path& temp_file, const std::string& key, std::string_view format,
                        std::int64_t expected_size) override {
        return inner_.store(temp_file, key, format, expected_size);
    }
    void fetch(const std::string& key, const fs::path& dest) override { inner_.fetch(key, dest); }
    bool has_room_for(std::uint64_t) const override { return true; }
    void remove(const std::string& key) noexcept override { inner_.remove(key); }
    void erase(const std::string& key) override { inner_.erase(key); }

  private:
    storage::LocalStorage& inner_;
};

// A ZIP cannot be stored (a full disk).
// The first `refusals` ZIPs stored (every one: -1) find the storage full.
class NoRoomForZips final : public LocalBackend {
  public:
    using LocalBackend::LocalBackend;
    std::uint64_t store(const fs::path& temp_file, const std::string& key, std::string_view format,
                        std::int64_t expected_size) override {
        if (format == "zip" && refusals != 0) {
            if (refusals > 0) --refusals;
            fs::remove(temp_file);
            throw storage::StorageError("No space left on device", true);
        }
        return LocalBackend::store(temp_file, key, format, expected_size);
    }
    int refusals = -1;
};

// The first `failures` results read back (every one: -1) find the object
// store unavailable (its retries used up).
class UnavailableForFetches final : public LocalBackend {
  public:
    using LocalBackend::LocalBackend;
    void fetch(const std::string& key, const fs::path& dest) override {
        if (failures != 0) {
            if (failures > 0) --failures;
            throw storage::StorageUnavailable(
                "the object store answered HTTP 503 SlowDown; gave up after 3 attempts");
        }
        LocalBackend::fetch(key, dest);
    }
    int failures = -1;
};

// Storing a ZIP takes `delay` (an object store upload of a large ZIP).
class SlowZipStore final : public LocalBackend {
  public:
    SlowZipStore(storage::LocalStorage& inner, std::chrono::milliseconds delay)
        : LocalBackend(inner), delay_(delay) {}
    std::uint64_t store(const fs::path& temp_file, const std::string& key, std::string_view format,
                        std::int64_t expected_size) override {
        if (format == "zip") std::this_thread::sleep_for(delay_);
        return LocalBackend::store(temp_file, key, format, expected_size);
    }

  private:
    std::chrono::milliseconds delay_;
};

// Reports a full storage (below storage_min_free_mb) while `full`.
class FullUntilFreed final : public LocalBackend {
  public:
    using LocalBackend::LocalBackend;
    bool has_room_for(std::uint64_t) const override { return !full; }
    bool full = true;
};

// `free` bytes can be written to the scratch directory; counts fetches.
class RoomFor final : public LocalBackend {
  public:
    using LocalBackend::LocalBackend;
    bool has_room_for(std::uint64_t bytes) const override { return bytes <= free; }
    void fetch(const std::string& key, const fs::path& dest) override {
        ++fetches;
        LocalBackend::fetch(key, dest);
    }
    std::uint64_t free = 0;
    int fetches = 0;
};

// The first fetch sets `stop` (the worker is told to stop while a ZIP is
// being built); counts fetches.
class StopDuringFetches final : public LocalBackend {
  public:
    StopDuringFetches(storage::LocalStorage& inner, std::atomic<bool>& stop)
        : LocalBackend(inner), stop_(stop) {}
    void fetch(const std::string& key, const fs::path& dest) override {
        ++fetches;
        stop_ = true;
        LocalBackend::fetch(key, dest);
    }
    int fetches = 0;

  private:
    std::atomic<bool>& stop_;
};

// Before the ZIP is stored, `before_zip` runs (another archiver takes the
// job over and ends it meanwhile).
class TakenOverWhileStoring final : public LocalBackend {
  public:
    using LocalBackend::LocalBackend;
    std::uint64_t store(const fs::path& temp_file, const std::string& key, std::string_view format,
                        std::int64_t expected_size) override {
        if (format == "zip" && before_zip) before_zip();
        return LocalBackend::store(temp_file, key, format, expected_size);
    }
    std::function<void()> before_zip;
};

class BatchArchiverTest : public test_support::PgTest {
  protected:
    void SetUp() override {
        test_support::PgTest::SetUp();
        if (HasFatalFailure()) return;
        conn_ = std::make_unique<pqxx::connection>(url());
        key_ = db::create_key(*conn_, "acme", auth::key_hash_hex(auth::generate_api_key()),
                              "sk_live_acme");
        root_ = fs::temp_directory_path() / ("enconvert-archiver-" + std::to_string(getpid()));
        fs::remove_all(root_);
        storage_ = std::make_unique<storage::LocalStorage>(root_);
    }
    void TearDown() override {
        storage_.reset();
        fs::remove_all(root_);
    }

    // A batch of `urls` whose tasks are all claimed by worker "w".
    std::string start_batch(std::vector<std::string> urls, json options) {
        db::NewJob j;
        j.id = util::new_job_id(urls.size() > 1);
        j.account_id = key_.account_id;
        j.api_key_id = key_.key_id;
        j.endpoint = "url-to-pdf";
        j.is_batch = urls.size() > 1;
        j.options = std::move(options);
        j.callback_url = "https://hooks.example.com/done";
        j.base_url = "https://api.example.com";
        j.urls = std::move(urls);
        const auto ins = db::insert_job(*conn_, j);
        claimed_ = db::claim_tasks(*conn_, "w", 300, 100);
        return ins.job_id;
    }

    // Stores a PDF for the claimed task at `position` and finishes it.
    db::FinishResult succeed(int position, const std::string& body) {
        const db::ClaimedTask& t = claimed_.at(static_cast<std::size_t>(position));
        const fs::path temp = storage_->temp_dir() / ("t" + std::to_string(t.task_id));
        std::ofstream(temp, std::ios::binary) << body;
        db::TaskOutcome o;
        o.task_id = t.task_id;
        o.job_id = t.job_id;
        o.ok = true;
        // Two URLs of one host share a filename; the key's name is unique.
        o.filename = "example-com.pdf";
        const std::string name =
            "example-com_20260101T000000Z_" + std::to_string(t.task_id) + ".pdf";
        o.object_key = "live/files/" + t.account_public_id + "/url-to-pdf/" + name;
        o.file_size = static_cast<std::int64_t>(storage_->store(temp, o.object_key, "pdf"));
        pdfs_[name] = body;
        return db::finish_task(*conn_, "w", o);
    }

    db::FinishResult fail(int position) {
        const db::ClaimedTask& t = claimed_.at(static_cast<std::size_t>(position));
        db::TaskOutcome o;
        o.task_id = t.task_id;
        o.job_id = t.job_id;
        o.error_code = "http_error";
        o.error = "The page answered 404.";
        return db::finish_task(*conn_, "w", o);
    }

    // A website capture whose discovery found `urls`, its tasks all
    // claimed by worker "w".
    std::string start_website(const std::string& endpoint, std::vector<std::string> urls,
                              json options = json::object()) {
        db::NewJob j;
        j.id = util::new_job_id(true);
        j.account_id = key_.account_id;
        j.api_key_id = key_.key_id;
        j.endpoint = endpoint;
        j.is_batch = true;
        j.options = std::move(options);
        j.options["url"] = urls.front();
        j.options["output_format"] = "zip";
        j.callback_url = "https://hooks.example.com/done";
        j.base_url = "https://api.example.com";
        j.discover = true;
        const std::string id = db::insert_job(*conn_, j).job_id;
        const auto d = db::claim_discovery(*conn_, "d", 300);
        EXPECT_TRUE(d);
        db::DiscoveryOutcome o;
        o.urls = std::move(urls);
        o.method = "sitemap";
        o.total_discovered = static_cast<std::int64_t>(o.urls.size());
        EXPECT_TRUE(db::finish_discovery(*conn_, "d", id, o).applied);
        claimed_ = db::claim_tasks(*conn_, "w", 300, 100);
        return id;
    }

    // Stores a result in `ext` for the claimed task at `position` (named as
    // the storer names it, after the host) and finishes it.
    db::FinishResult succeed_page(int position, const std::string& body, const std::string& ext) {
        const db::ClaimedTask& t = claimed_.at(static_cast<std::size_t>(position));
        const fs::path temp = storage_->temp_dir() / ("t" + std::to_string(t.task_id));
        std::ofstream(temp, std::ios::binary) << body;
        db::TaskOutcome o;
        o.task_id = t.task_id;
        o.job_id = t.job_id;
        o.ok = true;
        o.filename = "docs-example-com." + ext;
        o.object_key = "live/files/" + t.account_public_id + "/" + t.endpoint +
                       "/docs-example-com_20260101T000000Z_" + std::to_string(t.task_id) + "." +
                       ext;
        o.file_size = static_cast<std::int64_t>(
            storage_->store(temp, o.object_key, ext == "jpg" ? "jpeg" : ext));
        return db::finish_task(*conn_, "w", o);
    }

    // A batch of two pages asking for a ZIP, both rendered: its ZIP waits.
    std::string zip_batch_rendered() {
        const std::string id =
            start_batch({"https://a.example/", "https://b.example/"}, {{"output_format", "zip"}});
        succeed(0, "%PDF-1.7\na\n%%EOF\n");
        succeed(1, "%PDF-1.7\nb\n%%EOF\n");
        return id;
    }

    db::JobView job(const std::string& id) { return *db::load_job(*conn_, id, key_.account_id); }

    long long count(const std::string& sql) {
        pqxx::nontransaction tx(*conn_);
        return tx.exec(sql)[0][0].as<long long>();
    }

    // Without the pause after a ZIP the storage had no room for (30 s by
    // default): the tests try again at once.
    scheduler::BatchArchiver archiver(storage::Storage& storage) {
        scheduler::ArchiverOptions o{url(), "archiver-1"};
        o.storage_full_retry = std::chrono::seconds(0);
        return scheduler::BatchArchiver(o, storage);
    }

    // An earlier archiver stored the job's ZIP and lost its lease before it
    // could record it: the job waits for its ZIP again, which is on the
    // storage under the key returned.
    std::string zip_stored_but_not_recorded(const std::string& id) {
        auto first = archiver(*storage_);
        EXPECT_TRUE(first.archive_one(no_stop_));  // builds and records: done
        const db::JobView v = job(id);
        EXPECT_EQ(v.zip_state, "done");
        const std::string key = v.zip_object_key.value_or("");
        pqxx::work tx(*conn_);
        tx.exec_params(
            "UPDATE jobs SET zip_state = 'pending', zip_object_key = NULL, status = "
            "'processing', completed_at = NULL, zip_lease_owner = NULL WHERE id = $1",
            id);
        tx.exec("DELETE FROM notifications");
        tx.commit();
        EXPECT_TRUE(fs::exists(storage_->path_for(key)));
        return key;
    }

    // Another archiver takes the job's ZIP over (ours lost its lease) and
    // records `result` for it.
    void recorded_by_another_archiver(const std::string& id, const db::ArchiveResult& result) {
        pqxx::connection other(url());
        {
            pqxx::work tx(other);
            tx.exec_params("UPDATE jobs SET zip_lease_owner = 'other' WHERE id = $1", id);
            tx.commit();
        }
        ASSERT_TRUE(db::finish_archive(other, "other", id, result).applied);
    }

    void expect_no_zip_stored() {
        for (const auto& e : fs::recursive_directory_iterator(root_))
            EXPECT_NE(e.path().extension(), ".zip") << e.path();
    }

    // The job waits for its ZIP, and no archiver holds it: handed back.
    void expect_waiting_for_its_zip(const std::string& id) {
        const db::JobView v = job(id);
        EXPECT_EQ(v.status, "processing");
        EXPECT_EQ(v.zip_state, "pending");
        EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE zip_lease_owner IS NOT NULL"), 0);
    }

    // Builds the ZIP of `id` three times on `storage`: the first two are
    // handed back (another try may work), the third records the failure.
    // Its zip_error.
    std::string zip_error_on_the_third_build(storage::Storage& storage, const std::string& id) {
        auto a = archiver(storage);
        EXPECT_FALSE(a.archive_one(no_stop_));
        EXPECT_FALSE(a.archive_one(no_stop_));
        EXPECT_TRUE(a.archive_one(no_stop_));
        const db::JobView v = job(id);
        EXPECT_EQ(v.zip_state, "failed");
        return v.zip_error.value_or("");
    }

    std::unique_ptr<pqxx::connection> conn_;
    db::CreatedKey key_;
    fs::path root_;
    std::unique_ptr<storage::LocalStorage> storage_;
    std::vector<db::ClaimedTask> claimed_;
    std::map<std::string, std::string> pdfs_;  // entry name → bytes
    const std::atomic<bool> no_stop_{false};
};

}  // namespace

TEST_F(BatchArchiverTest, ZipHoldsEverySuccessAndTheManifestBeforeTheJobEnds) {
    const std::string id =
        start_batch({"https://a.example/", "https://b.example/missing", "https://c.example/"},
                    {{"output_format", "zip"}, {"output_filename", "report"}});
    EXPECT_FALSE(succeed(0, "%PDF-1.7\nfirst\n%%EOF\n").archive_pending);
    EXPECT_FALSE(fail(1).archive_pending);
    const db::FinishResult last = succeed(2, "%PDF-1.7\nthird\n%%EOF\n");
    // Every task is done, but the job waits for its ZIP: no notification yet.
    EXPECT_TRUE(last.applied);
    EXPECT_TRUE(last.archive_pending);
    EXPECT_FALSE(last.job_terminal);
    EXPECT_EQ(job(id).status, "processing");
    EXPECT_EQ(job(id).zip_state, "pending");
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 0);

    auto a = archiver(*storage_);
    ASSERT_TRUE(a.archive_one(no_stop_));
    EXPECT_FALSE(a.archive_one(no_stop_));  // nothing else waits

    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    EXPECT_TRUE(v.completed_at);
    EXPECT_EQ(v.zip_state, "done");
    ASSERT_TRUE(v.zip_object_key);
    EXPECT_EQ(v.zip_object_key->rfind(
                  "live/files/" + claimed_[0].account_public_id + "/url-to-pdf/report_", 0),
              0u);
    EXPECT_NE(v.zip_object_key->find("_" + id + ".zip"), std::string::npos);
    EXPECT_FALSE(v.zip_error);
    const fs::path zip_file = storage_->path_for(*v.zip_object_key);
    EXPECT_EQ(static_cast<std::uint64_t>(*v.zip_file_size), fs::file_size(zip_file));
    // The notifications were queued with the terminal state.
    EXPECT_EQ(count("SELECT count(*) FROM notifications WHERE type = 'webhook'"), 1);

    auto entries = test_support::read_zip(zip_file);
    ASSERT_EQ(entries.size(), 3u);
    for (const auto& [name, bytes] : pdfs_) EXPECT_EQ(entries.at(name), bytes) << name;
    const json manifest = json::parse(entries.at("manifest.json"));
    EXPECT_EQ(manifest["batch_id"], id);
    ASSERT_EQ(manifest["failed"].size(), 1u);
    EXPECT_EQ(manifest["failed"][0]["source_url"], "https://b.example/missing");
    EXPECT_EQ(manifest["failed"][0]["error_code"], "http_error");
    EXPECT_EQ(manifest["files"].size(), 2u);
    // The scratch files are gone; the results are still there.
    EXPECT_EQ(std::distance(fs::directory_iterator(storage_->temp_dir()), fs::directory_iterator()),
              0);
    for (const auto& t : v.tasks) {
        if (t.object_key) {
            EXPECT_TRUE(fs::exists(storage_->path_for(*t.object_key)));
        }
    }
}

TEST_F(BatchArchiverTest, AllSucceededMeansNoManifest) {
    const std::string id =
        start_batch({"https://a.example/", "https://b.example/"}, {{"output_format", true}});
    succeed(0, "%PDF-1.7\na\n%%EOF\n");
    EXPECT_TRUE(succeed(1, "%PDF-1.7\nb\n%%EOF\n").archive_pending);
    auto a = archiver(*storage_);
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    ASSERT_TRUE(v.zip_object_key);
    // Without output_filename the ZIP is named "batch".
    EXPECT_NE(v.zip_object_key->find("/url-to-pdf/batch_"), std::string::npos);
    const auto entries = test_support::read_zip(storage_->path_for(*v.zip_object_key));
    EXPECT_EQ(entries.size(), 2u);
    EXPECT_FALSE(entries.count("manifest.json"));
}

TEST_F(BatchArchiverTest, AStopWhileBuildingHandsTheZipBackAtOnce) {
    // A ZIP of many files held the worker's stop until it was done (or
    // until the service manager's SIGKILL, which kept its lease for a minute).
    std::vector<std::string> urls;
    for (int i = 0; i < 6; ++i) urls.push_back("https://a.example/" + std::to_string(i));
    const std::string id = start_batch(urls, {{"output_format", true}});
    for (int i = 0; i < 6; ++i) succeed(i, "%PDF-1.7\n" + std::to_string(i) + "\n%%EOF\n");
    std::atomic<bool> stop{false};
    StopDuringFetches stopping(*storage_, stop);
    auto a = archiver(stopping);
    a.run(stop);  // returns: the first fetch asked it to stop
    EXPECT_EQ(stopping.fetches, 1);
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "processing");
    EXPECT_EQ(v.zip_state, "pending");
    EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE zip_lease_owner IS NULL"), 1);
    // Another archiver takes it up at once and builds the whole ZIP.
    auto other = archiver(*storage_);
    ASSERT_TRUE(other.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "done");
}

TEST_F(BatchArchiverTest, AZipThatCannotBeStoredEndsTheJobWithItsFilesAndTheReason) {
    const std::string id =
        start_batch({"https://a.example/", "https://b.example/"}, {{"output_format", "zip"}});
    succeed(0, "%PDF-1.7\na\n%%EOF\n");
    fail(1);
    NoRoomForZips full(*storage_);
    auto a = archiver(full);
    // Handed back twice (the storage may have room again), failed the third
    // time: it does not fit.
    EXPECT_FALSE(a.archive_one(no_stop_));
    EXPECT_FALSE(a.archive_one(no_stop_));
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    EXPECT_EQ(v.zip_state, "failed");
    ASSERT_TRUE(v.zip_object_key);  // kept for the retention (no ZIP in the answers)
    EXPECT_FALSE(fs::exists(storage_->path_for(*v.zip_object_key)));
    ASSERT_TRUE(v.zip_error);
    EXPECT_NE(v.zip_error->find("could not be stored"), std::string::npos) << *v.zip_error;
    EXPECT_NE(v.zip_error->find("No space left on device"), std::string::npos) << *v.zip_error;
    EXPECT_EQ(v.zip_error->find(root_.string()), std::string::npos) << *v.zip_error;
    // The result is kept and still downloadable; the client is told.
    ASSERT_TRUE(v.tasks[0].object_key);
    EXPECT_TRUE(fs::exists(storage_->path_for(*v.tasks[0].object_key)));
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
    EXPECT_EQ(std::distance(fs::directory_iterator(storage_->temp_dir()), fs::directory_iterator()),
              0);
}

// The storage filling up while a ZIP was built (other jobs' files, the
// ZIP's own copies) failed the ZIP for good; it is handed back and made
// once there is room.
TEST_F(BatchArchiverTest, AZipThatFoundTheStorageFullIsMadeAgainOnceThereIsRoom) {
    const std::string id = zip_batch_rendered();
    NoRoomForZips full(*storage_);
    full.refusals = 1;
    auto a = archiver(full);
    EXPECT_FALSE(a.archive_one(no_stop_));
    expect_waiting_for_its_zip(id);
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 0);
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    EXPECT_EQ(v.zip_state, "done");
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
    EXPECT_EQ(std::distance(fs::directory_iterator(storage_->temp_dir()), fs::directory_iterator()),
              0);
}

// An object store that was unavailable while the results were read back
// failed the ZIP for good, saying it "could not be stored". It is handed
// back and made once the store answers again.
TEST_F(BatchArchiverTest, AZipWhoseResultsCouldNotBeReadBackIsMadeAgainOnceTheStoreAnswers) {
    const std::string id = zip_batch_rendered();
    UnavailableForFetches outage(*storage_);
    outage.failures = 1;
    auto a = archiver(outage);
    EXPECT_FALSE(a.archive_one(no_stop_));
    expect_waiting_for_its_zip(id);
    ASSERT_TRUE(a.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "done");
}

// A store that stays down fails the ZIP after three builds, saying what
// failed: reading the results back, not storing the ZIP.
TEST_F(BatchArchiverTest, AStoreThatStaysDownFailsTheZipSayingTheResultsCouldNotBeRead) {
    const std::string id = zip_batch_rendered();
    UnavailableForFetches outage(*storage_);
    EXPECT_EQ(zip_error_on_the_third_build(outage, id),
              "The ZIP of the results could not be made: the object store answered HTTP 503 "
              "SlowDown; gave up after 3 attempts. The files are available one by one.");
}

// A ZIP's build writes its results' copies, then itself: one that cannot
// fit filled the disk other jobs render to before it failed. It is not
// started; the job waits, and is made once there is room.
TEST_F(BatchArchiverTest, AZipIsNotStartedWithoutRoomForItsCopiesAndItself) {
    const std::string id = zip_batch_rendered();
    std::uint64_t results = 0;
    for (const auto& t : job(id).tasks)
        results += static_cast<std::uint64_t>(t.file_size.value_or(0));
    ASSERT_GT(results, 0u);
    RoomFor room(*storage_);
    room.free = 2 * results - 1;
    auto a = archiver(room);
    EXPECT_FALSE(a.archive_one(no_stop_));
    EXPECT_EQ(room.fetches, 0);
    expect_waiting_for_its_zip(id);
    room.free = 2 * results;
    ASSERT_TRUE(a.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "done");
}

// Never room: after three tries the job ends without its ZIP, saying why.
TEST_F(BatchArchiverTest, AZipThatNeverHasRoomFailsSayingSo) {
    const std::string id = zip_batch_rendered();
    RoomFor room(*storage_);
    EXPECT_EQ(zip_error_on_the_third_build(room, id),
              "The ZIP of the results could not be made: the storage has no room for it (it "
              "needs about 1 MiB while it is built). The files are available one by one.");
    EXPECT_EQ(room.fetches, 0);
}

// The room a handed-back ZIP's scratch files leave is no room for another
// try: the archiver waits storage_full_retry before the next ZIP.
TEST_F(BatchArchiverTest, AfterAZipTheStorageHadNoRoomForTheNextWaits) {
    const std::string id = zip_batch_rendered();
    NoRoomForZips full(*storage_);
    full.refusals = 1;
    scheduler::BatchArchiver a(scheduler::ArchiverOptions{url(), "archiver-1"}, full);
    EXPECT_FALSE(a.archive_one(no_stop_));
    EXPECT_FALSE(a.archive_one(no_stop_));  // within the 30 s
    expect_waiting_for_its_zip(id);
    EXPECT_EQ(full.refusals, 0);  // one build only
}

TEST_F(BatchArchiverTest, NoZipAskedOrNothingToZipEndsTheJobAtOnce) {
    const std::string plain = start_batch({"https://a.example/", "https://b.example/"}, {});
    succeed(0, "%PDF-1.7\na\n%%EOF\n");
    const db::FinishResult r = succeed(1, "%PDF-1.7\nb\n%%EOF\n");
    EXPECT_TRUE(r.job_terminal);
    EXPECT_FALSE(r.archive_pending);
    EXPECT_EQ(job(plain).zip_state, "");

    const std::string failed =
        start_batch({"https://a.example/x", "https://b.example/y"}, {{"output_format", "zip"}});
    fail(0);
    const db::FinishResult f = fail(1);
    EXPECT_TRUE(f.job_terminal);
    EXPECT_EQ(f.job_status, "failed");
    EXPECT_EQ(job(failed).zip_state, "");
    auto a = archiver(*storage_);
    EXPECT_FALSE(a.archive_one(no_stop_));
}

TEST_F(BatchArchiverTest, ALapsedLeaseIsTakenOverAndTheFirstArchiverCannotFinish) {
    const std::string id = zip_batch_rendered();
    // A first archiver whose lease ran out at once (it died, or hung).
    const auto first = db::claim_archive(*conn_, "dead", 0);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->job_id, id);
    EXPECT_EQ(first->tasks.size(), 2u);
    auto a = archiver(*storage_);
    ASSERT_TRUE(a.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "done");
    db::ArchiveResult late;
    late.object_key = "live/files/x/url-to-pdf/late.zip";
    EXPECT_FALSE(db::finish_archive(*conn_, "dead", id, late).applied);
    EXPECT_FALSE(db::renew_archive_lease(*conn_, "dead", id, 60));
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
}

TEST_F(BatchArchiverTest, AZipWhoseBuildsKeepDyingFailsAfterMaxAttempts) {
    // Three archivers claimed the ZIP and died (or hung) with it. Before,
    // it was claimed again for ever: the job stayed processing, was never
    // notified and never expired.
    const std::string id = zip_batch_rendered();
    for (int i = 1; i <= 3; ++i) {
        const auto dead = db::claim_archive(*conn_, "dead-" + std::to_string(i), 0);
        ASSERT_TRUE(dead);
        EXPECT_EQ(dead->attempts, i);
    }
    auto a = archiver(*storage_);  // max_attempts 3
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    EXPECT_EQ(v.zip_state, "failed");
    ASSERT_TRUE(v.zip_error);
    EXPECT_NE(v.zip_error->find("interrupted on each of 3 attempts"), std::string::npos)
        << *v.zip_error;
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
    // The files are there, one by one.
    ASSERT_TRUE(v.tasks[0].object_key);
    EXPECT_TRUE(fs::exists(storage_->path_for(*v.tasks[0].object_key)));
}

TEST_F(BatchArchiverTest, AZipHandedBackIsNoAttempt) {
    // A stopping worker or a full storage hands the ZIP back: that claim
    // does not count towards max_attempts.
    const std::string id = zip_batch_rendered();
    for (int i = 0; i < 5; ++i) {
        const auto claim = db::claim_archive(*conn_, "stopping", 60);
        ASSERT_TRUE(claim);
        EXPECT_EQ(claim->attempts, 1);
        db::release_archive(*conn_, "stopping", id);
    }
    auto a = archiver(*storage_);
    ASSERT_TRUE(a.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "done");
}

TEST_F(BatchArchiverTest, AZipStoredAfterTheJobEndedWithoutOneIsRemoved) {
    // Our lease ran out while we stored the ZIP; another archiver took the
    // job over and recorded that the ZIP failed. What we stored under the
    // key then belongs to no job: before, it stayed on the storage for
    // ever (no row names it, so retention never removes it).
    const std::string id = zip_batch_rendered();
    TakenOverWhileStoring taken(*storage_);
    taken.before_zip = [&] {
        db::ArchiveResult failed;
        failed.error = "The ZIP of the results could not be made: test.";
        recorded_by_another_archiver(id, failed);
    };
    auto a = archiver(taken);
    ASSERT_TRUE(a.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "failed");
    expect_no_zip_stored();
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
}

// Our lease ran out while we stored the ZIP; another archiver made it, and
// the job expired (its files deleted, the key forgotten) before our store
// ended. What we stored then belonged to no row: kept for ever.
TEST_F(BatchArchiverTest, AZipStoredAfterTheJobExpiredIsRemoved) {
    const std::string id = zip_batch_rendered();
    TakenOverWhileStoring taken(*storage_);
    taken.before_zip = [&] {
        db::ArchiveResult done;
        done.object_key = "live/files/x/url-to-pdf/other.zip";
        recorded_by_another_archiver(id, done);
        pqxx::work tx(*conn_);
        db::expire_jobs(tx, {id});
        tx.commit();
    };
    auto a = archiver(taken);
    ASSERT_TRUE(a.archive_one(no_stop_));
    expect_no_zip_stored();
}

// A storage that cannot remove the ZIP an earlier attempt stored (the
// removal is best effort) when the failure is recorded.
class KeepsWhatItShouldRemove final : public LocalBackend {
  public:
    using LocalBackend::LocalBackend;
    std::uint64_t store(const fs::path& temp_file, const std::string& key, std::string_view format,
                        std::int64_t expected_size) override {
        if (format == "zip") {
            fs::remove(temp_file);
            throw storage::StorageError("No space left on device", false);
        }
        return LocalBackend::store(temp_file, key, format, expected_size);
    }
    void remove(const std::string&) noexcept override {}
};

// What the removal after a recorded failure missed was named by no row and
// stayed for ever; the failed ZIP keeps its key, and the retention deletes it.
TEST_F(BatchArchiverTest, AZipAFailureCouldNotRemoveIsDeletedByTheRetention) {
    const std::string id = zip_batch_rendered();
    const std::string key = zip_stored_but_not_recorded(id);
    KeepsWhatItShouldRemove keeps(*storage_);
    auto a = archiver(keeps);
    ASSERT_TRUE(a.archive_one(no_stop_));
    ASSERT_EQ(job(id).zip_state, "failed");
    ASSERT_TRUE(fs::exists(storage_->path_for(key)));
    {
        pqxx::work tx(*conn_);
        tx.exec_params("UPDATE jobs SET completed_at = now() - interval '2 days' WHERE id = $1",
                       id);
        tx.exec("UPDATE notifications SET state = 'delivered'");
        tx.commit();
    }
    janitor::JanitorOptions o;
    o.database_url = url();
    janitor::Janitor j(o, [&](const std::string& k) { storage_->erase(k); });
    EXPECT_EQ(j.sweep(), 1);
    EXPECT_FALSE(fs::exists(storage_->path_for(key)));
}

TEST_F(BatchArchiverTest, ARecordedFailureRemovesAZipAnEarlierAttemptStored) {
    // An earlier archiver stored the ZIP and lost its lease before it could
    // record it; the next one fails (the storage is full) and records
    // that: the earlier ZIP under the same key is removed with it.
    const std::string id = zip_batch_rendered();
    const std::string key = zip_stored_but_not_recorded(id);
    NoRoomForZips full(*storage_);
    auto second = archiver(full);
    EXPECT_FALSE(second.archive_one(no_stop_));
    EXPECT_FALSE(second.archive_one(no_stop_));
    ASSERT_TRUE(second.archive_one(no_stop_));
    EXPECT_EQ(job(id).zip_state, "failed");
    EXPECT_FALSE(fs::exists(storage_->path_for(key)));
}

TEST_F(BatchArchiverTest, TheLeaseIsKeptWhileTheZipIsStoredForLongerThanIt) {
    const std::string id = zip_batch_rendered();
    // Storing takes 2.5 leases of 1 s. Before, another worker took the job
    // over after the first second and the first could not record its ZIP.
    SlowZipStore slow(*storage_, 2500ms);
    scheduler::BatchArchiver a(scheduler::ArchiverOptions{url(), "archiver-1", 1}, slow);
    std::atomic<bool> done{false};
    bool archived = false;
    std::thread building([&] {
        archived = a.archive_one(no_stop_);
        done = true;
    });
    // The competing archiver starts once the first holds the lease: before,
    // it could claim the job first (the first was still connecting).
    EXPECT_TRUE(test_support::wait_until([&] {
        return count("SELECT count(*) FROM jobs WHERE zip_lease_owner = 'archiver-1'") == 1;
    }));
    auto other = std::make_unique<pqxx::connection>(url());
    int taken = 0;
    while (!done) {
        if (db::claim_archive(*other, "archiver-2", 60)) ++taken;
        std::this_thread::sleep_for(100ms);
    }
    building.join();
    EXPECT_TRUE(archived);
    EXPECT_EQ(taken, 0);
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    EXPECT_EQ(v.zip_state, "done");
    EXPECT_EQ(count("SELECT count(*) FROM notifications"), 1);
}

// The lease keeper used to open its connection after the claim: a database
// taking no more connections then (max_connections reached, a restart
// beginning) made archive_one throw with the job claimed, and the job waited
// out its lease.
TEST_F(BatchArchiverTest, NothingIsConnectedOnceAJobIsClaimed) {
    const std::string id = zip_batch_rendered();
    auto a = archiver(*storage_);
    // From another database: PostgreSQL refuses this for the current one.
    pqxx::connection admin(url() + " dbname=template1");
    const auto allow_connections = [&](bool allow) {
        pqxx::nontransaction tx(admin);
        tx.exec(std::string("ALTER DATABASE postgres WITH ALLOW_CONNECTIONS ") +
                (allow ? "true" : "false"));
    };
    allow_connections(false);
    bool archived = false;
    EXPECT_NO_THROW(archived = a.archive_one(no_stop_));
    allow_connections(true);
    EXPECT_TRUE(archived);
    EXPECT_EQ(job(id).zip_state, "done");
}

TEST_F(BatchArchiverTest, AZipWaitsWhileTheStorageIsFullInsteadOfFailing) {
    const std::string id = zip_batch_rendered();
    FullUntilFreed storage(*storage_);
    auto a = archiver(storage);
    EXPECT_FALSE(a.archive_one(no_stop_));
    expect_waiting_for_its_zip(id);
    storage.full = false;
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    EXPECT_EQ(v.zip_state, "done");
}

TEST_F(BatchArchiverTest, AWebsiteZipMirrorsTheSiteAndListsItsPages) {
    const std::string id = start_website(
        "website-to-pdf",
        {"https://docs.example.com/", "https://docs.example.com/docs/getting-started.html",
         "https://docs.example.com/docs/", "https://docs.example.com/missing",
         "https://docs.example.com/docs/index.html", "https://docs.example.com/list?page=2"});
    ASSERT_EQ(claimed_.size(), 6u);
    succeed_page(0, "%PDF-1.7\nhome\n%%EOF\n", "pdf");
    succeed_page(1, "%PDF-1.7\nstart\n%%EOF\n", "pdf");
    succeed_page(2, "%PDF-1.7\ndocs\n%%EOF\n", "pdf");
    fail(3);
    succeed_page(4, "%PDF-1.7\ndocs index\n%%EOF\n", "pdf");
    EXPECT_TRUE(succeed_page(5, "%PDF-1.7\nlist\n%%EOF\n", "pdf").archive_pending);

    auto a = archiver(*storage_);
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    EXPECT_EQ(v.status, "completed");
    ASSERT_EQ(v.zip_state, "done");
    ASSERT_TRUE(v.zip_object_key);
    EXPECT_NE(v.zip_object_key->find("/website-to-pdf/"), std::string::npos);
    const auto entries = test_support::read_zip(storage_->path_for(*v.zip_object_key));
    std::set<std::string> names;
    for (const auto& [name, bytes] : entries) names.insert(name);
    EXPECT_EQ(names,
              (std::set<std::string>{"index.pdf", "docs/getting-started.pdf", "docs/index.pdf",
                                     "docs/index-2.pdf", "list_page_2.pdf", "manifest.json"}));
    EXPECT_EQ(entries.at("index.pdf"), "%PDF-1.7\nhome\n%%EOF\n");
    EXPECT_EQ(entries.at("docs/getting-started.pdf"), "%PDF-1.7\nstart\n%%EOF\n");
    EXPECT_EQ(entries.at("docs/index.pdf"), "%PDF-1.7\ndocs\n%%EOF\n");
    EXPECT_EQ(entries.at("docs/index-2.pdf"), "%PDF-1.7\ndocs index\n%%EOF\n");

    const json manifest = json::parse(entries.at("manifest.json"));
    EXPECT_EQ(manifest["batch_id"], id);
    ASSERT_EQ(manifest["failed"].size(), 1u);
    EXPECT_EQ(manifest["failed"][0]["source_url"], "https://docs.example.com/missing");
    EXPECT_EQ(manifest["failed"][0]["error_code"], "http_error");
    ASSERT_EQ(manifest["files"].size(), 5u);
    EXPECT_EQ(manifest["files"][1],
              (json{{"source_url", "https://docs.example.com/docs/getting-started.html"},
                    {"file", "docs/getting-started.pdf"}}));
    EXPECT_EQ(count("SELECT count(*) FROM notifications WHERE type = 'webhook'"), 1);
}

TEST_F(BatchArchiverTest, AWebsiteZipHasItsManifestEvenWhenEveryPageSucceeded) {
    const std::string id =
        start_website("website-to-screenshot",
                      {"https://docs.example.com/", "https://docs.example.com/about.php"},
                      {{"image_format", "jpeg"}});
    const std::string one = "\xff\xd8\xff one \xff\xd9";  // a JPEG's framing, as checked
    const std::string two = "\xff\xd8\xff two \xff\xd9";
    succeed_page(0, one, "jpg");
    EXPECT_TRUE(succeed_page(1, two, "jpg").archive_pending);
    auto a = archiver(*storage_);
    ASSERT_TRUE(a.archive_one(no_stop_));
    const db::JobView v = job(id);
    ASSERT_TRUE(v.zip_object_key);
    const auto entries = test_support::read_zip(storage_->path_for(*v.zip_object_key));
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries.at("index.jpg"), one);
    EXPECT_EQ(entries.at("about.jpg"), two);
    const json manifest = json::parse(entries.at("manifest.json"));
    EXPECT_EQ(manifest["batch_id"], id);
    EXPECT_TRUE(manifest["failed"].empty());
    EXPECT_EQ(
        manifest["files"],
        (json::array(
            {json{{"source_url", "https://docs.example.com/"}, {"file", "index.jpg"}},
             json{{"source_url", "https://docs.example.com/about.php"}, {"file", "about.jpg"}}})));
}

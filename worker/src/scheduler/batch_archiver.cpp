#include "scheduler/batch_archiver.h"

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>

#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "scheduler/archive_lease_keeper.h"
#include "scheduler/claim_loop.h"
#include "scheduler/site_page_names.h"
#include "storage/object_key.h"
#include "storage/zip_archive.h"
#include "util/ids.h"
#include "util/no_space.h"

namespace enconvert::scheduler {

namespace fs = std::filesystem;

namespace {

constexpr log::Logger kLog{"archiver"};
// Builds of one ZIP that may find the storage full before it fails for good.
constexpr int kFullStorageAttempts = 3;
// Jobs another archiver finished stay in full_storage_builds_: bounded.
constexpr std::size_t kMaxRememberedFullBuilds = 1000;

// The build's scratch directory, removed with everything in it.
class ScratchDir {
  public:
    explicit ScratchDir(fs::path path) : path_(std::move(path)) { fs::create_directories(path_); }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

// The entry name of a stored result: the last part of its object key, the
// name its download has (X-Filename) and, with the task id in it, unique
// within the batch; like the vendor's ZIP entries it carries a time stamp.
// (The answers' `filename` is the same for two URLs of one host.)
// A website capture's pages are named after their paths instead
// (site_page_names.h): the ZIP mirrors the site.
std::string result_name(const db::ArchiveJob& job, const db::TaskView& t) {
    const std::string& key = *t.object_key;
    if (db::is_website_endpoint(job.endpoint)) {
        return site_page_entry_name(t.url, key.substr(key.rfind('.') + 1));
    }
    return key.substr(key.rfind('/') + 1);
}

// A build writes a copy of each stored result to the scratch directory,
// then the ZIP: about as large again (PDFs and PNGs hardly compress).
std::uint64_t scratch_bytes_needed(const db::ArchiveJob& job) {
    std::uint64_t results = 0;
    for (const db::TaskView& t : job.tasks) {
        if (t.status == "success" && t.object_key && t.file_size && *t.file_size > 0)
            results += static_cast<std::uint64_t>(*t.file_size);
    }
    return 2 * results;
}

// The result of a build not started for want of room: as one that found
// the storage full.
ArchiveBuild no_room_build(std::uint64_t needed) {
    ArchiveBuild build;
    build.storage_full = true;
    build.result.error =
        "The ZIP of the results could not be made: the storage has no room for it (it needs "
        "about " +
        std::to_string((needed + (1u << 20) - 1) >> 20) +
        " MiB while it is built). The files are available one by one.";
    return build;
}

}  // namespace

std::optional<ArchiveBuild> build_archive(const db::ArchiveJob& job, storage::Storage& storage,
                                          const std::function<bool()>& keep_going) {
    ArchiveBuild build;
    db::ArchiveResult& result = build.result;
    // What a StorageError stopped: reading the results back, or storing the ZIP.
    std::string failed_step = "made";
    try {
        const ScratchDir scratch(storage.temp_dir() /
                                 ("zip-" + job.job_id + "-" + util::random_hex(4)));
        const fs::path zip_path = scratch.path() / "archive.zip";
        storage::ZipWriter zip(zip_path);
        std::set<std::string> used{kManifestName};
        nlohmann::json files = nlohmann::json::array();
        nlohmann::json failed = nlohmann::json::array();
        for (const db::TaskView& t : job.tasks) {
            if (t.status != "success" || !t.object_key) {
                failed.push_back({{"source_url", t.url},
                                  {"error_code", t.error_code.value_or("render_failed")},
                                  {"error", t.error.value_or("The conversion failed.")}});
                continue;
            }
            const fs::path local = scratch.path() / ("task-" + std::to_string(t.id));
            storage.fetch(*t.object_key, local);
            const std::string name = storage::unique_entry_name(used, result_name(job, t));
            zip.add_file(name, local);
            files.push_back({{"source_url", t.url}, {"file", name}});
            if (!keep_going()) return std::nullopt;
        }
        // A website capture always lists its pages: which file is which
        // page is not obvious from a path-based name alone.
        if (!failed.empty() || db::is_website_endpoint(job.endpoint)) {
            const nlohmann::json manifest{
                {"batch_id", job.job_id}, {"files", files}, {"failed", failed}};
            // An error text is the page's or the renderer's: bytes that
            // are not UTF-8 are replaced rather than failing the ZIP.
            zip.add_bytes(
                kManifestName,
                manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
        }
        zip.close();
        const std::string key = storage::build_archive_key(job.account_public_id, job.endpoint,
                                                           job.options, job.stamp, job.job_id);
        failed_step = "stored";
        result.file_size = static_cast<std::int64_t>(storage.store(zip_path, key, "zip"));
        result.object_key = key;
        kLog.info("batch ZIP stored", {{"job_id", job.job_id},
                                       {"files", files.size()},
                                       {"failed", failed.size()},
                                       {"bytes", result.file_size}});
    } catch (const storage::StorageError& e) {
        result.error = "The ZIP of the results could not be " + failed_step + ": " + e.what() +
                       ". The files are available one by one.";
        build.storage_full = e.full();
        // A store that kept failing a moment ago may answer later: the job
        // is handed back like one that found the storage full. Before, one
        // outage while its results were read back cost the ZIP for good.
        build.storage_unavailable = dynamic_cast<const storage::StorageUnavailable*>(&e) != nullptr;
    } catch (const storage::ZipError& e) {
        result.error = std::string("The ZIP of the results could not be made: ") + e.what() +
                       ". The files are available one by one.";
        build.storage_full = e.full();
    } catch (const std::filesystem::filesystem_error& e) {
        // what() would name the scratch path: the error code says enough.
        result.error = "The ZIP of the results could not be made: " + e.code().message() +
                       ". The files are available one by one.";
        build.storage_full = util::is_no_space(e.code().value());
    } catch (const pqxx::failure&) {
        throw;  // keep_going's (the lease): the caller's connection
    } catch (const std::exception& e) {
        // Anything else would fail the same way on every attempt: the job
        // ends without its ZIP rather than being taken up again forever.
        result.error = std::string("The ZIP of the results could not be made: ") + e.what() +
                       ". The files are available one by one.";
    }
    if (!result.error.empty()) {
        result.object_key.clear();
        result.file_size = 0;
    }
    return build;
}

BatchArchiver::BatchArchiver(ArchiverOptions options, storage::Storage& storage)
    : options_(std::move(options)),
      storage_(storage),
      session_(options_.database_url, {db::kArchiveReadyChannel}, "archiver"),
      lease_session_(options_.database_url, {}, "archiver lease") {}

bool BatchArchiver::archive_one(const std::atomic<bool>& stop) {
    // As the scheduler takes no task then: a ZIP started on a full storage
    // would fail for good (its files copied and zipped need about twice
    // the batch's size); its job waits instead, like the pages do.
    if (!storage_.has_room()) {
        if (!storage_full_logged_) kLog.warning("storage is nearly full: not making ZIPs");
        storage_full_logged_ = true;
        return false;
    }
    if (std::chrono::steady_clock::now() < no_zip_before_) return false;
    if (storage_full_logged_) kLog.info("storage has room again: making ZIPs");
    storage_full_logged_ = false;
    pqxx::connection& conn = session_->conn();
    const auto job = db::claim_archive(conn, options_.worker_id, options_.lease_seconds);
    if (!job) return false;
    if (job->attempts > options_.max_attempts) {
        db::ArchiveResult given_up;
        given_up.error =
            "The ZIP of the results could not be made: building it was interrupted "
            "on each of " +
            std::to_string(options_.max_attempts) +
            " attempts. The files are available one by one.";
        return record_archive(*job, given_up);
    }
    bool stopping = false;
    std::optional<ArchiveBuild> build;
    // A build that cannot fit would fill the disk other jobs render to,
    // then fail: it is not started, and the job waits as for a full storage.
    if (const std::uint64_t needed = scratch_bytes_needed(*job); !storage_.has_room_for(needed)) {
        build = no_room_build(needed);
    } else {
        kLog.info(
            "building a batch ZIP",
            {{"job_id", job->job_id}, {"tasks", job->tasks.size()}, {"attempt", job->attempts}});
        const ArchiveLeaseKeeper lease(lease_session_, options_.worker_id, job->job_id,
                                       options_.lease_seconds);
        build = build_archive(*job, storage_, [&] {
            // A ZIP of many files (or a slow object store) would hold the
            // worker's stop up to its service manager's SIGKILL.
            if (stop.load()) {
                stopping = true;
                return false;
            }
            return !lease.lost();
        });
    }
    if (!build && stopping) {
        db::release_archive(conn, options_.worker_id, job->job_id);
        kLog.info("batch ZIP handed back: stopping", {{"job_id", job->job_id}});
        return false;
    }
    if (!build) {
        kLog.warning("batch ZIP abandoned: lease lost", {{"job_id", job->job_id}});
        return true;
    }
    // A storage that filled up during the build (other jobs' files, the
    // ZIP's own copies), or an object store that was unavailable, is no
    // reason to go without the ZIP for good: handed back, it waits for room
    // as a new one does (above), or for storage_full_retry. A ZIP that can
    // never fit, or a store that stays down, fails after
    // kFullStorageAttempts builds.
    if (build->worth_another_try() && ++full_storage_builds_[job->job_id] < kFullStorageAttempts) {
        db::release_archive(conn, options_.worker_id, job->job_id);
        no_zip_before_ = std::chrono::steady_clock::now() + options_.storage_full_retry;
        kLog.warning(build->storage_unavailable
                         ? "batch ZIP handed back: the storage is unavailable"
                         : "batch ZIP handed back: the storage has no room for it",
                     {{"job_id", job->job_id},
                      {"attempt", full_storage_builds_[job->job_id]},
                      {"error", build->result.error}});
        return false;
    }
    full_storage_builds_.erase(job->job_id);
    if (full_storage_builds_.size() > kMaxRememberedFullBuilds) full_storage_builds_.clear();
    return record_archive(*job, build->result);
}

bool BatchArchiver::record_archive(const db::ArchiveJob& job, const db::ArchiveResult& result) {
    pqxx::connection& conn = session_->conn();
    if (!result.error.empty())
        kLog.error("batch ZIP failed", {{"job_id", job.job_id}, {"error", result.error}});
    // Every attempt stores under one key (db::ArchiveJob::stamp): what is
    // there once the job has ended without its ZIP belongs to no one.
    const std::string key = storage::build_archive_key(job.account_public_id, job.endpoint,
                                                       job.options, job.stamp, job.job_id);
    db::ArchiveResult recorded = result;
    // A failure keeps the key in the row: the removal below is best effort,
    // and what it misses the retention deletes (it was left for ever).
    if (!recorded.error.empty()) recorded.object_key = key;
    const db::FinishResult r = db::finish_archive(conn, options_.worker_id, job.job_id, recorded);
    if (!r.applied) {
        // Another archiver has the job (our lease ran out). While it works
        // or once it recorded its ZIP, the file under the key is (or will
        // be) its own: left alone. Once it recorded a failure, or the job
        // has expired since (its files deleted, the key forgotten) or is
        // gone, what we stored there is nobody's and nothing would ever
        // remove it.
        kLog.warning("batch ZIP not recorded: lease lost", {{"job_id", job.job_id}});
        if (result.error.empty()) {
            const std::string state = db::archive_state(conn, job.job_id);
            if (state == "failed" || state == "expired" || state.empty()) storage_.remove(key);
        }
        return true;
    }
    // A failure recorded: an earlier attempt that lost its lease may still
    // have stored a ZIP under the key.
    if (!result.error.empty()) storage_.remove(key);
    kLog.info("job finished", {{"job_id", r.job_id},
                               {"status", r.job_status},
                               {"zip", result.error.empty() ? "done" : "failed"}});
    metrics::worker_metrics().job_finished(r.endpoint, r.job_status);
    return true;
}

void BatchArchiver::run(const std::atomic<bool>& stop) {
    kLog.info("started", {{"worker_id", options_.worker_id}});
    run_claim_loop(session_, stop, options_.poll_interval, kLog, "archiver", "making a batch ZIP",
                   [this, &stop] { return archive_one(stop); });
    kLog.info("stopped");
}

}  // namespace enconvert::scheduler

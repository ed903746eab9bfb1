#include "scheduler/archive_lease_keeper.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <pqxx/pqxx>

#include "db/batch_archives.h"
#include "db/reconnecting_session.h"
#include "log/log.h"

namespace enconvert::scheduler {

namespace {
constexpr log::Logger kLog{"archiver"};
// A lease of (nearly) nothing is not renewed in a busy loop.
constexpr std::chrono::milliseconds kShortestInterval{100};
}  // namespace

ArchiveLeaseKeeper::ArchiveLeaseKeeper(const std::string& database_url, std::string owner,
                                       std::string job_id, int lease_seconds)
    : owner_(std::move(owner)), job_id_(std::move(job_id)), lease_seconds_(lease_seconds) {
    // Connected before the thread starts, so that a wrong URL throws here.
    auto session = std::make_shared<db::ReconnectingSession>(
        database_url, std::vector<std::string>{}, "archiver lease");
    thread_ = std::thread([this, session] {
        const auto every =
            std::max(std::chrono::milliseconds(lease_seconds_ * 1000 / 3), kShortestInterval);
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, every, [this] { return stopping_; })) {
            lock.unlock();
            try {
                session->ensure();
                if (*session &&
                    !db::renew_archive_lease((*session)->conn(), owner_, job_id_, lease_seconds_)) {
                    lost_ = true;
                    kLog.warning("batch ZIP lease lost", {{"job_id", job_id_}});
                }
            } catch (const pqxx::broken_connection& e) {
                session->drop(e.what());
            } catch (const std::exception& e) {
                // Tried again a third of the lease later; the archiver's own
                // finish finds out if the lease lapsed meanwhile.
                kLog.warning("renewing a batch ZIP lease failed",
                             {{"job_id", job_id_}, {"error", e.what()}});
            }
            lock.lock();
            if (lost_) break;
        }
    });
}

ArchiveLeaseKeeper::~ArchiveLeaseKeeper() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

}  // namespace enconvert::scheduler

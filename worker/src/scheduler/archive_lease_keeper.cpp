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
// After a failed renewal: a third of the lease later, a database away for
// two thirds of it would have let the lease lapse. (A lost connection is
// opened again as the session's back-off allows.)
constexpr std::chrono::milliseconds kRetryAfterFailure{500};
}  // namespace

ArchiveLeaseKeeper::ArchiveLeaseKeeper(db::ReconnectingSession& session, std::string owner,
                                       std::string job_id, int lease_seconds)
    : owner_(std::move(owner)), job_id_(std::move(job_id)), lease_seconds_(lease_seconds) {
    thread_ = std::thread([this, &session] {
        const auto every =
            std::max(std::chrono::milliseconds(lease_seconds_ * 1000 / 3), kShortestInterval);
        auto wait = every;
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, wait, [this] { return stopping_; })) {
            lock.unlock();
            wait = std::min(every, kRetryAfterFailure);
            try {
                session.ensure();
                if (session) {
                    if (db::renew_archive_lease(session->conn(), owner_, job_id_, lease_seconds_)) {
                        wait = every;
                    } else {
                        lost_ = true;
                        kLog.warning("batch ZIP lease lost", {{"job_id", job_id_}});
                    }
                }
            } catch (const pqxx::broken_connection& e) {
                session.drop(e.what());
            } catch (const pqxx::in_doubt_error& e) {
                // The connection went during the COMMIT: not to be trusted.
                session.drop(e.what());
            } catch (const std::exception& e) {
                // The archiver's own finish finds out if the lease lapsed.
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

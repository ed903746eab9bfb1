// Keeps a batch ZIP's lease (db::renew_archive_lease) while the archiver
// thread is inside one long call: libzip compresses every entry within
// zip_close(), and the store of the finished ZIP (an object store upload)
// is one call too. Either can outlast the lease; another worker would then
// take the job over, the first could not record its ZIP, and the two would
// take it from each other for as long as the build outlasts the lease.
// A thread of its own renews the lease every third of it (half a second
// after a failed renewal), on a connection of its own, until the keeper is
// destroyed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "db/reconnecting_session.h"

namespace enconvert::scheduler {

class ArchiveLeaseKeeper {
  public:
    // Starts renewing on `session`, which only the keeper's thread uses
    // until the keeper is destroyed. The archiver opens it before claiming
    // (a connection opened after the claim could fail and leave the job
    // claimed by nobody until its lease ran out).
    ArchiveLeaseKeeper(db::ReconnectingSession& session, std::string owner, std::string job_id,
                       int lease_seconds);
    ~ArchiveLeaseKeeper();  // stops renewing and joins
    ArchiveLeaseKeeper(const ArchiveLeaseKeeper&) = delete;
    ArchiveLeaseKeeper& operator=(const ArchiveLeaseKeeper&) = delete;

    // A renewal found the lease no longer ours (it lapsed while the
    // database could not be reached, and another archiver took the job).
    bool lost() const { return lost_.load(); }

  private:
    const std::string owner_, job_id_;
    const int lease_seconds_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<bool> lost_{false};
    std::thread thread_;
};

}  // namespace enconvert::scheduler

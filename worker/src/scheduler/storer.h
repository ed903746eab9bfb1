// Stores rendered results off the scheduler thread. An upload to an object
// store can take seconds, retries included; done on the scheduler thread it
// would hold up lease renewals (other tasks' leases could lapse) and new
// renders. One thread runs the store jobs in order; the scheduler polls
// wake_fd() and collects the outcomes.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "db/job_types.h"

namespace enconvert::scheduler {

class Storer {
  public:
    using Job = std::function<db::TaskOutcome()>;

    Storer();  // starts the thread; throws std::system_error
    ~Storer();
    Storer(const Storer&) = delete;
    Storer& operator=(const Storer&) = delete;

    // `job` must not throw (make_outcome does not).
    void submit(Job job);
    // Outcomes of the jobs finished since the last call, in order.
    std::vector<db::TaskOutcome> take_done();
    // Readable while finished outcomes wait to be taken.
    int wake_fd() const { return event_fd_; }
    // Drops the jobs not started (their tasks are handed back by the
    // caller); true while one is still in hand (wake_fd() turns readable
    // once it is done). The caller keeps its leases meanwhile.
    bool drop_queued();
    // Finishes the job in hand, drops those not started and ends the
    // thread. Idempotent.
    void stop();

  private:
    void run();

    int event_fd_ = -1;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queued_;
    std::vector<db::TaskOutcome> done_;
    bool in_hand_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace enconvert::scheduler

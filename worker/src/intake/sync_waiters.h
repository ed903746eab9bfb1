// Sync convert requests waiting for their job to become terminal, and
// website captures waiting for their discovery, keyed by job id. Owned by the intake thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace enconvert::intake {

struct Waiter {
    std::string identity;  // ROUTER routing id of the module's DEALER
    std::uint64_t request_id = 0;
    std::int64_t account_id = 0;
    bool direct_download = false;
    // A website capture: answered once its discovery is recorded (202 with
    // what was found, or 400), not when the job ends.
    bool website = false;
    std::chrono::steady_clock::time_point deadline;
};

// Waiters of one job whose answers are made alike: one read of the job
// answers them all.
struct WaiterGroup {
    std::int64_t account_id = 0;
    bool direct_download = false;
    bool website = false;
    std::vector<Waiter> waiters;
};

class SyncWaiters {
  public:
    void add(const std::string& job_id, Waiter w) { by_job_[job_id].push_back(std::move(w)); }
    bool contains(const std::string& job_id) const { return by_job_.count(job_id) != 0; }
    // Removes and returns the waiters of a job, grouped by the answer they
    // wait for, in the order they came. A client retrying a sync request
    // with one Idempotency-Key adds a waiter each time: the job is then read
    // once per group, not once per waiter.
    std::vector<WaiterGroup> take(const std::string& job_id);
    // Drops waiters past their deadline: the module has long since answered
    // 202 for them, so nobody is listening any more.
    std::size_t expire(std::chrono::steady_clock::time_point now);
    std::vector<std::string> job_ids() const;
    std::size_t size() const { return by_job_.size(); }

  private:
    std::unordered_map<std::string, std::vector<Waiter>> by_job_;
};

}  // namespace enconvert::intake

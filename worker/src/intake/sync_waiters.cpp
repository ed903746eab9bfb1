#include "intake/sync_waiters.h"

#include <algorithm>

namespace enconvert::intake {

std::vector<WaiterGroup> SyncWaiters::take(const std::string& job_id) {
    auto it = by_job_.find(job_id);
    if (it == by_job_.end()) return {};
    std::vector<WaiterGroup> groups;
    for (Waiter& w : it->second) {
        auto group = std::find_if(groups.begin(), groups.end(), [&](const WaiterGroup& g) {
            return g.account_id == w.account_id && g.direct_download == w.direct_download &&
                   g.website == w.website;
        });
        if (group == groups.end())
            group = groups.insert(groups.end(),
                                  WaiterGroup{w.account_id, w.direct_download, w.website, {}});
        group->waiters.push_back(std::move(w));
    }
    by_job_.erase(it);
    return groups;
}

std::size_t SyncWaiters::expire(std::chrono::steady_clock::time_point now) {
    std::size_t dropped = 0;
    for (auto it = by_job_.begin(); it != by_job_.end();) {
        auto& list = it->second;
        const auto old = list.size();
        list.erase(std::remove_if(list.begin(), list.end(),
                                  [&](const Waiter& w) { return w.deadline <= now; }),
                   list.end());
        dropped += old - list.size();
        it = list.empty() ? by_job_.erase(it) : std::next(it);
    }
    return dropped;
}

std::vector<std::string> SyncWaiters::job_ids() const {
    std::vector<std::string> ids;
    ids.reserve(by_job_.size());
    for (const auto& [id, _] : by_job_) ids.push_back(id);
    return ids;
}

}  // namespace enconvert::intake

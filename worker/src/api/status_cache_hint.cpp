#include "api/status_cache_hint.h"

#include <string>

#include "db/notification_store.h"

namespace enconvert::api {

namespace {

// A notification still pending (or being sent) changes the answer later;
// so does one settled as interrupted, whose notifier may yet record what
// became of the attempt (db::record_delivery).
bool settled(const nlohmann::json& notifications) {
    for (const auto& n : notifications) {
        const auto state = n.value("state", std::string());
        if (state != "delivered" && state != "failed") return false;
        const auto& error = n.value("error", nlohmann::json());
        if (error.is_string() && error.get<std::string>() == db::kInterruptedError) return false;
    }
    return true;
}

}  // namespace

std::optional<StatusCacheHint> status_cache_hint(const db::JobView& job, std::string_view body,
                                                 const storage::Presigner& presigner,
                                                 std::chrono::seconds retention) {
    if (job.status == "processing" || !job.completed_unix || job.expired) return std::nullopt;
    if (job.discovery_state == "pending") return std::nullopt;
    if (!presigner.signs_local_links() || !settled(job.notifications)) return std::nullopt;

    StatusCacheHint hint;
    hint.link_ttl = presigner.ttl_seconds();
    if (retention.count() > 0) hint.until = *job.completed_unix + retention.count();

    // The links come in task order, each as a JSON string value of
    // "presigned_url". A client's own text cannot hold that member name
    // unescaped, so only the answer's links match.
    constexpr std::string_view kMember = "\"presigned_url\":\"";
    constexpr std::string_view kQuery = "?expires=";
    std::size_t from = 0;
    for (const auto& task : job.tasks) {
        if (task.status != "success") continue;
        const std::string key = task.object_key.value_or("");
        const std::size_t member = body.find(kMember, from);
        if (member == std::string_view::npos || key.empty()) return std::nullopt;
        const std::size_t start = member + kMember.size();
        const std::size_t end = body.find('"', start);
        if (end == std::string_view::npos) return std::nullopt;
        const std::string_view link = body.substr(start, end - start);
        const std::size_t query = link.find(kQuery);
        const std::string tail = "/v1/files/" + key;
        if (query == std::string_view::npos || query < tail.size() ||
            link.substr(query - tail.size(), tail.size()) != tail)
            return std::nullopt;
        hint.links.push_back(LinkSpan{start, query, link.size(), key.size()});
        from = end;
    }
    if (body.find(kMember, from) != std::string_view::npos) return std::nullopt;
    return hint;
}

}  // namespace enconvert::api

// What lets nginx keep a finished job's status answer and answer it itself
// (docs/internals.md "Status answers kept by nginx"): the answer no longer
// changes once the job is finished and its notifications are settled, until
// retention expires it. Only its download links must be made afresh on every
// answer; the hint says where they are, so nginx can sign new ones.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "db/job_types.h"
#include "storage/presign.h"

namespace enconvert::api {

// One download link inside the body: body[offset, offset + length) is
// "{prefix}?expires=...&signature=...", where the prefix (prefix_length
// bytes) ends with "/v1/files/{object key}" and the key is its last
// key_length bytes.
struct LinkSpan {
    std::size_t offset = 0;
    std::size_t prefix_length = 0;
    std::size_t length = 0;
    std::size_t key_length = 0;
};

struct StatusCacheHint {
    // Unix seconds after which the answer must not be given any more (the
    // job's retention ends); 0: kept until evicted.
    std::int64_t until = 0;
    int link_ttl = 0;  // seconds a fresh link is valid
    std::vector<LinkSpan> links;
};

// The hint for `body`, the status answer of `job`;
// nullopt when the answer may still change (job or discovery running, a
// notification not settled), when links are not this service's own signed
// links (S3 backend), or when a link is not where the job says it is.
std::optional<StatusCacheHint> status_cache_hint(const db::JobView& job, std::string_view body,
                                                 const storage::Presigner& presigner,
                                                 std::chrono::seconds retention);

}  // namespace enconvert::api

#include "intake/fingerprint.h"

#include <nlohmann/json.hpp>

#include "util/crypto.h"

namespace enconvert::intake {

std::string request_fingerprint(const ConvertRequest& req) {
    // nlohmann::json stores objects in a std::map, so dump() emits keys in
    // sorted order at every level: the canonical form without extra code.
    const nlohmann::json canonical{{"endpoint", req.endpoint},
                                   {"urls", req.urls},
                                   {"batch", req.batch},
                                   {"async", req.async},
                                   {"options", req.options}};
    // The version prefix lets a later change of the canonical form be told
    // apart from a changed request.
    return util::sha256_hex("enconvert-request-v1\n" + canonical.dump());
}

}  // namespace enconvert::intake

// The canonical fingerprint of a convert request, stored with an
// idempotency key so a reused key with a different request is detected.
#pragma once

#include <string>

#include "intake/wire.h"

namespace enconvert::intake {

// Lowercase hex SHA-256 over a versioned canonical JSON of everything that
// defines the job: endpoint, urls, batch, async and the options. Object keys
// are sorted at every depth, so the order in which a client wrote its JSON
// members does not matter; values and array order do. Not included: the API
// key (keys are scoped per account anyway), base_url (the same client may
// retry through another host name) and the idempotency key itself.
std::string request_fingerprint(const ConvertRequest& req);

}  // namespace enconvert::intake

// SQL of the notifier side of the outbox: claiming due rows with a lease,
// recording outcomes, and settling rows whose notifier died mid-send. Each
// function runs its own transaction on the caller's connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace enconvert::db {

struct ClaimedNotification {
    std::int64_t id = 0;
    std::string job_id;
    std::string type;  // "webhook" | "email"
    std::string target;
    int attempts = 0;  // including this one
    std::int64_t account_id = 0;
    std::optional<std::string> webhook_secret;  // the account's signing secret
};

// The COMMIT of a claim was cut off (the connection was lost during it):
// whether `ids` are now ours is unknown. Nothing of them was sent, so the
// caller releases them once connected again (release_claim, which changes
// nothing if the claim did not commit); left to their leases, they would be
// settled as interrupted, i.e. failed without ever being sent.
struct ClaimInDoubt : pqxx::in_doubt_error {
    ClaimInDoubt(const pqxx::in_doubt_error& cause, std::vector<std::int64_t> claimed)
        : pqxx::in_doubt_error(cause.what()), ids(std::move(claimed)) {}
    std::vector<std::int64_t> ids;
};

// How many deliveries one account may have in flight on a notifier, and
// how many each account has now: one tenant's silent receivers must not
// take every slot.
struct AccountShare {
    int max_per_account = 1 << 30;
    std::map<std::int64_t, int> held;  // account id -> rows in flight
};

// Claims up to `limit` pending rows that are due, oldest first, FOR UPDATE
// SKIP LOCKED, at most as many of an account as `share` leaves it room for,
// and marks them sending with a lease of `lease_seconds` owned by `owner`.
// Throws ClaimInDoubt when its COMMIT was cut off.
std::vector<ClaimedNotification> claim_notifications(pqxx::connection& conn,
                                                     const std::string& owner, int lease_seconds,
                                                     int limit, const AccountShare& share = {});

struct DeliveryRecord {
    std::int64_t id = 0;
    enum class State { delivered, failed, retry } state = State::failed;
    std::optional<int> response_code;
    std::optional<std::string> error;
    std::chrono::seconds retry_after{0};  // for State::retry
    int attempts = 0;                     // the claim's count (ClaimedNotification)
    std::string job_id;                   // for the log only
};

// Records the outcome of attempt `r.attempts` if `owner` still holds that
// attempt's lease, or if the row was settled as interrupted after the lease
// ran out (settle_interrupted) and nothing happened to it since (same
// attempt count, not claimed again): a notifier cut off from the database
// past its lease knows what became of the attempt, the settlement only
// guessed. Never over a later attempt, even by the same owner. False
// otherwise.
bool record_delivery(pqxx::connection& conn, const std::string& owner, const DeliveryRecord& r);

// Hands a claimed row that was never sent back to `pending`, undoing its
// attempt count, if `owner` still holds it (used on shutdown for rows whose
// callback host was still being resolved). Returns whether it was released.
// `not_before`: the row is due again that much later at the earliest.
bool release_claim(pqxx::connection& conn, const std::string& owner, std::int64_t id,
                   std::chrono::milliseconds not_before = std::chrono::milliseconds(0));

// Rows left in `sending` whose lease expired (their notifier crashed or was
// killed): those with retries left (webhook_retries / email_retries) go
// back to pending, the others fail with "delivery interrupted by worker restart" — sending them
// again could deliver twice, which the no-retry contract rules out.
// Returns how many rows were settled.
int settle_interrupted(pqxx::connection& conn, int webhook_retries, int email_retries);

// Seconds until the next pending row that `share` lets be claimed is due
// (nullopt: none is waiting), so the notifier sleeps exactly until a
// scheduled retry.
std::optional<double> seconds_until_next_due(pqxx::connection& conn,
                                             const AccountShare& share = {});

inline constexpr const char* kInterruptedError = "delivery interrupted by worker restart";

}  // namespace enconvert::db

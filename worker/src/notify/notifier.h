// The notifier thread: LISTENs on enconvert_notify with its own PostgreSQL
// connection, claims due outbox rows with a lease, and drives every delivery
// (HTTPS webhooks, SMTP mail) concurrently from one libcurl multi handle, so
// a slow receiver never holds up the others. DNS lookups of callback hosts
// run on short-lived helper threads that wake the loop when done; one that
// outlasts webhook_timeout is given up (net/background_resolve.h).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "curl/curl_handles.h"
#include "db/notification_store.h"
#include "db/reconnecting_session.h"
#include "net/address_policy.h"
#include "net/background_resolve.h"
#include "notify/notifier_config.h"
#include "notify/transfer.h"
#include "storage/presign.h"
#include "util/backoff.h"
#include "util/record_queue.h"

namespace enconvert::notify {

struct NotifierSettings {
    std::string database_url;
    std::string worker_id;         // lease owner name
    std::string allowed_networks;  // CIDRs exempt from the outbound deny list
    std::string smtp_url;          // empty: write <mail_dir>/<job_id>.eml
    std::string smtp_password;     // for smtp_url's user (smtp_password_file)
    std::string mail_dir;
    std::string tls_ca_file;  // extra CAs trusted besides the system ones
    NotifierOptions options;
    // Look for due rows this often even without a NOTIFY (retries that came
    // due, expired leases, notifications missed during a reconnect).
    std::chrono::milliseconds poll_interval{5000};
    // Longest wait of one statement (PostgreSQL's statement_timeout): an
    // outcome waiting for a row another session keeps locked is tried
    // again later instead of holding up the others.
    std::chrono::milliseconds statement_timeout{5000};
    // How callback hosts are looked up; empty: the system resolver. Tests put
    // one here that answers late or never.
    net::HostLookup host_lookup;
};

class Notifier {
  public:
    // Connects to the database, parses allowed_networks and builds the CA
    // bundle; throws (std::exception) if any of that fails.
    Notifier(NotifierSettings settings, storage::Presigner presigner);
    ~Notifier();
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    // Runs until `stop`, then drains: claims nothing more, hands rows whose
    // host is still being resolved back to `pending`, and gives deliveries in
    // flight up to options.shutdown_grace seconds to finish. Those still
    // running then are recorded as interrupted (failed, or retried when
    // retries are configured). If the database is unreachable at that point
    // the rows stay `sending` and are settled when their lease expires.
    void run(const std::atomic<bool>& stop);

  private:
    struct PendingWebhook {
        db::ClaimedNotification row;
        WebhookRequest request;
        std::optional<net::BackgroundResolve> lookup;
        // The lookup and the exchange share webhook_timeout: the lookup is
        // given up when it has used all of it.
        std::chrono::steady_clock::time_point started;
    };

    void claim_and_start();
    // How many rows each account has in flight here, and its limit.
    db::AccountShare account_share() const;
    // Hands back unsent_claims_; false if the connection was lost again.
    bool release_claimed();
    // When to claim again: the next retry that is due, or the poll interval.
    void schedule_next_claim(std::chrono::steady_clock::time_point now);
    void start(const db::ClaimedNotification& row);
    void start_webhook(const db::ClaimedNotification& row);
    void start_email(const db::ClaimedNotification& row);
    void start_resolved_webhooks();
    void add_transfer(std::unique_ptr<Transfer> t);
    void collect_finished();
    // The transfer's outcome given curl's result code, recorded; the handle
    // is let go.
    void end_transfer(std::int64_t id, CURLcode rc);
    void finish(const db::ClaimedNotification& row, const AttemptOutcome& o);
    void flush_records();
    util::RecordStep record_outcome(const db::DeliveryRecord& r);
    int wait_timeout_ms() const;
    void drain();
    // Rows whose callback host is still being resolved join unsent_claims_.
    void release_unstarted();
    void abandon_in_flight();

    NotifierSettings settings_;
    storage::Presigner presigner_;
    net::AddressPolicy policy_;
    std::string ca_blob_;  // empty: libcurl's default trust store
    int lease_seconds_;
    db::ReconnectingSession session_;
    std::mt19937_64 rng_;
    bool want_claim_ = true;
    std::chrono::steady_clock::time_point next_claim_{};
    // No claims before this: reading a claimed row's job was refused.
    std::chrono::steady_clock::time_point claims_held_until_{};

    // Declared before the work in flight: destroyed after it, because easy
    // handles are removed from it and resolver threads wake it.
    curl::CurlMulti multi_;
    std::map<std::int64_t, db::ClaimedNotification> rows_;  // by notification id
    // Claimed rows never started (the connection was lost while they were
    // prepared, or the notifier stops): released back to pending once the
    // connection is there (release_claimed).
    std::vector<std::int64_t> unsent_claims_;
    // Of those, the ones whose job the database refused to read: released
    // due a poll interval later (db::release_claim's delay).
    std::set<std::int64_t> delayed_releases_;
    std::map<std::int64_t, std::unique_ptr<Transfer>> transfers_;
    std::vector<PendingWebhook> resolving_;
    util::RecordQueue<db::DeliveryRecord> unrecorded_;  // waiting for the database
};

}  // namespace enconvert::notify

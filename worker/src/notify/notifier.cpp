#include "notify/notifier.h"

#include <algorithm>

#include "db/errors.h"
#include "db/job_repository.h"
#include "db/notification_outbox.h"
#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "notify/ca_bundle.h"
#include "notify/email_message.h"
#include "notify/mail_drop.h"
#include "notify/webhook_payload.h"
#include "notify/webhook_signature.h"

namespace enconvert::notify {

namespace {

constexpr int kMaxWaitMs = 250;  // bounds the stop-flag latency

constexpr log::Logger kLog{"notifier"};

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

AttemptOutcome failure(std::string error, bool permanent) {
    AttemptOutcome o;
    o.error = std::move(error);
    o.permanent = permanent;
    return o;
}

}  // namespace

Notifier::Notifier(NotifierSettings settings, storage::Presigner presigner)
    : settings_(std::move(settings)),
      presigner_(std::move(presigner)),
      policy_(net::AddressPolicy::from_config(settings_.allowed_networks, settings_.host_lookup)),
      ca_blob_(combined_ca_bundle(settings_.tls_ca_file)),
      lease_seconds_(settings_.options.effective_lease_seconds()),
      session_(settings_.database_url, {db::kNotifyChannel}, "notifier",
               settings_.statement_timeout),
      rng_(std::random_device{}()),
      multi_((curl::ensure_curl_global_init(), curl::make_multi())) {
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      static_cast<long>(settings_.options.max_concurrent));
}

Notifier::~Notifier() {
    for (auto& [id, t] : transfers_) curl_multi_remove_handle(multi_.get(), t->handle());
}

bool Notifier::release_claimed() {
    while (!unsent_claims_.empty()) {
        const std::int64_t id = unsent_claims_.back();
        try {
            const bool delayed = delayed_releases_.count(id) > 0;
            if (db::release_claim(session_->conn(), settings_.worker_id, id,
                                  delayed ? settings_.poll_interval : std::chrono::milliseconds(0)))
                kLog.info("notification released unsent", {{"notification_id", id}});
        } catch (const pqxx::in_doubt_error&) {
            // Released or not, releasing again is harmless: kept for then.
            session_.drop("while releasing unsent notifications");
            return false;
        } catch (const pqxx::broken_connection&) {
            session_.drop("while releasing unsent notifications");
            return false;
        } catch (const pqxx::sql_error& e) {
            // Refused for now (a lock held past statement_timeout, a server
            // shutting down): kept for the next pass. Left to its lease it
            // would settle as interrupted, i.e. failed, never sent.
            if (!db::means_unavailable(e)) {
                kLog.error("releasing an unsent notification failed",
                           {{"notification_id", id}, {"error", e.what()}});
            } else {
                if (!session_->conn().is_open())
                    session_.drop("while releasing unsent notifications");
                return false;
            }
        } catch (const std::exception& e) {
            // Left to its lease, as before.
            kLog.error("releasing an unsent notification failed",
                       {{"notification_id", id}, {"error", e.what()}});
        }
        delayed_releases_.erase(id);
        unsent_claims_.pop_back();
    }
    return true;
}

void Notifier::claim_and_start() {
    const auto now = std::chrono::steady_clock::now();
    if (!session_) return;
    if (!unsent_claims_.empty()) {
        if (!release_claimed()) return;
        want_claim_ = true;  // they are pending again: take them now
    }
    // The database refused to read a claimed row's job: not again before
    // the poll interval (a lock it waited for would hold the loop again).
    if (now < claims_held_until_) return;
    if (!want_claim_ && now < next_claim_) return;
    const int in_flight = static_cast<int>(rows_.size());
    const int limit = settings_.options.max_concurrent - in_flight;
    if (limit <= 0) return;
    db::AccountShare share = account_share();
    std::vector<db::ClaimedNotification> claimed;
    try {
        const int settled = db::settle_interrupted(
            session_->conn(), settings_.options.webhook_retries, settings_.options.email_retries);
        if (settled > 0) {
            kLog.warning("notifications interrupted by a worker restart settled",
                         {{"count", settled}});
        }
        claimed = db::claim_notifications(session_->conn(), settings_.worker_id, lease_seconds_,
                                          limit, share);
    } catch (const db::ClaimInDoubt& e) {
        unsent_claims_.insert(unsent_claims_.end(), e.ids.begin(), e.ids.end());
        session_.drop("while committing a claim");
        return;
    } catch (const pqxx::broken_connection&) {
        session_.drop("while claiming");
        return;
    } catch (const std::exception& e) {
        kLog.error("claiming notifications failed", {{"error", e.what()}});
        next_claim_ = now + settings_.poll_interval;
        want_claim_ = false;
        return;
    }
    // Claim again at once when this claim was full, or when an account
    // reached its share with it: the candidates it looked at may all have
    // been that account's, and the next claim skips it for the others.
    bool share_reached = false;
    for (const auto& row : claimed) {
        if (++share.held[row.account_id] >= share.max_per_account) share_reached = true;
    }
    want_claim_ = static_cast<int>(claimed.size()) == limit || share_reached;
    // Nothing of a row given up here, or of the ones after it, was sent:
    // they are handed back (release_claimed, now or once the connection is
    // back). Left to their leases they would settle as interrupted: failed.
    const auto hand_back = [&](std::size_t from) {
        rows_.erase(claimed[from].id);
        for (std::size_t j = from; j < claimed.size(); ++j) unsent_claims_.push_back(claimed[j].id);
    };
    for (std::size_t i = 0; i < claimed.size(); ++i) {
        const auto& row = claimed[i];
        rows_.emplace(row.id, row);
        try {
            start(row);
        } catch (const pqxx::broken_connection&) {
            hand_back(i);
            session_.drop("while preparing a notification");
            return;
        } catch (const std::exception& e) {
            const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
            if (sql && db::means_unavailable(*sql)) {
                // A lock held past statement_timeout (a migration, VACUUM
                // FULL), a cancelled statement, a server short of
                // resources: the database cannot do it now, not the
                // notification is wrong.
                kLog.warning(
                    "reading a notification's job refused for now; handed back",
                    {{"job_id", row.job_id}, {"notification_id", row.id}, {"error", e.what()}});
                metrics::worker_metrics().database_error("notifier");
                hand_back(i);
                // Due again after the others: a row whose read keeps being
                // refused (its job's answer too slow to read) must not be
                // claimed first, and hand back the rest, on every pass.
                delayed_releases_.insert(row.id);
                if (!session_->conn().is_open()) {
                    session_.drop("while preparing a notification");
                } else {
                    release_claimed();
                }
                // From now: the read itself waited up to statement_timeout.
                claims_held_until_ = std::chrono::steady_clock::now() + settings_.poll_interval;
                next_claim_ = claims_held_until_;
                want_claim_ = false;
                return;
            }
            kLog.error("notification could not be prepared",
                       {{"job_id", row.job_id}, {"notification_id", row.id}, {"error", e.what()}});
            finish(row, failure("internal_error: the notification could not be prepared", true));
        }
        // Preparing reads the database and may wait for it: the deliveries
        // in flight are served between rows, so their answers are read
        // before their timeouts (curl counts the loop's waits against them).
        collect_finished();
    }
    // After the rows are started: a failure here must not strand them.
    schedule_next_claim(now);
}

db::AccountShare Notifier::account_share() const {
    db::AccountShare share;
    share.max_per_account = settings_.options.effective_account_max_concurrent();
    for (const auto& [id, row] : rows_) ++share.held[row.account_id];
    return share;
}

void Notifier::schedule_next_claim(std::chrono::steady_clock::time_point now) {
    // Sleep until the next scheduled retry, or the poll interval.
    auto next = now + settings_.poll_interval;
    try {
        if (const auto due = db::seconds_until_next_due(session_->conn(), account_share())) {
            next = std::min(
                next, now + std::chrono::milliseconds(static_cast<long long>(*due * 1000) + 10));
        }
    } catch (const pqxx::broken_connection&) {
        session_.drop("while scheduling the next claim");
    } catch (const std::exception& e) {
        kLog.error("reading the next retry time failed", {{"error", e.what()}});
    }
    next_claim_ = next;
}

void Notifier::start(const db::ClaimedNotification& row) {
    if (row.type == "webhook") {
        start_webhook(row);
    } else {
        start_email(row);
    }
}

void Notifier::start_webhook(const db::ClaimedNotification& row) {
    std::string error;
    const auto target = parse_callback_url(row.target, error);
    if (!target) {
        finish(row, failure(error, true));
        return;
    }
    const auto job = db::load_job(session_->conn(), row.job_id, row.account_id);
    if (!job) throw std::runtime_error("job " + row.job_id + " vanished");

    PendingWebhook p;
    p.row = row;
    p.request.url = row.target;
    p.request.target = *target;
    p.request.body = webhook_payload(*job, presigner_).dump();
    p.request.timeout_seconds = settings_.options.webhook_timeout;
    p.request.ca_blob = ca_blob_.empty() ? nullptr : &ca_blob_;
    if (settings_.options.webhook_signing && row.webhook_secret && !row.webhook_secret->empty()) {
        // The id names this notification, not the attempt: receivers use it
        // to drop duplicates of a retried delivery.
        try {
            p.request.extra_headers = standard_webhook_headers(
                *row.webhook_secret, "msg_" + row.job_id, unix_now(), p.request.body);
        } catch (const std::invalid_argument&) {
            // The operator's value (set by SQL): say what to mend, not
            // "internal_error". Sent unsigned it would fail the receiver's check.
            finish(row, failure("invalid_secret: the account's webhook_secret is not "
                                "whsec_ followed by the base64 of a key",
                                true));
            return;
        }
    }
    // getaddrinfo blocks: run it beside the loop and wake the loop when done.
    CURLM* multi = multi_.get();
    p.lookup.emplace(policy_, target->host, [multi] { curl_multi_wakeup(multi); });
    p.started = std::chrono::steady_clock::now();
    resolving_.push_back(std::move(p));
}

void Notifier::start_email(const db::ClaimedNotification& row) {
    if (!valid_mailbox(row.target)) {
        finish(row, failure("invalid_address: not a plain email address", true));
        return;
    }
    const auto job = db::load_job(session_->conn(), row.job_id, row.account_id);
    if (!job) throw std::runtime_error("job " + row.job_id + " vanished");
    const std::string message = compose_mime(
        notification_email_parts(*job, presigner_, settings_.options.mail_from, row.target));
    if (settings_.smtp_url.empty()) {
        if (settings_.mail_dir.empty()) {
            finish(row, failure("no_mail_transport: neither smtp_url nor mail_dir is set", true));
            return;
        }
        try {
            const auto path = write_eml(settings_.mail_dir, row.job_id, message);
            kLog.info(
                "email written to the mail directory",
                {{"job_id", row.job_id}, {"notification_id", row.id}, {"path", path.string()}});
            AttemptOutcome ok;
            ok.delivered = true;
            finish(row, ok);
        } catch (const std::exception& e) {
            finish(row, failure(std::string("mail_dir_error: ") + e.what(), false));
        }
        return;
    }
    SmtpRequest req;
    req.smtp_url = settings_.smtp_url;
    req.password = settings_.smtp_password;
    req.from = settings_.options.mail_from;
    req.to = row.target;
    req.message = message;
    req.timeout_seconds = settings_.options.smtp_timeout;
    req.ca_blob = ca_blob_.empty() ? nullptr : &ca_blob_;
    add_transfer(Transfer::smtp(row.id, std::move(req)));
}

void Notifier::start_resolved_webhooks() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = resolving_.begin(); it != resolving_.end();) {
        const std::optional<net::Resolved> answer = it->lookup->answer();
        const auto spent = now - it->started;
        if (!answer && spent < std::chrono::seconds(settings_.options.webhook_timeout)) {
            ++it;
            continue;
        }
        PendingWebhook p = std::move(*it);
        it = resolving_.erase(it);
        if (!answer) {
            // Nothing was sent: a retry (when configured) may find the DNS
            // answering again.
            finish(p.row,
                   failure("dns_error: " + p.request.target.host + " did not answer within " +
                               std::to_string(settings_.options.webhook_timeout) + " s",
                           false));
            continue;
        }
        const net::Resolved& r = *answer;
        if (r.error == net::ResolveError::blocked_address) {
            finish(p.row, failure("blocked_address", true));
        } else if (r.error == net::ResolveError::not_found) {
            finish(p.row,
                   failure("dns_error: " + p.request.target.host + " did not resolve", false));
        } else {
            p.request.addresses = r.allowed;
            p.request.lookup_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(spent).count();
            try {
                add_transfer(Transfer::webhook(p.row.id, std::move(p.request)));
            } catch (const std::exception& e) {
                finish(p.row, failure(std::string("internal_error: ") + e.what(), true));
            }
        }
    }
}

void Notifier::add_transfer(std::unique_ptr<Transfer> t) {
    if (curl_multi_add_handle(multi_.get(), t->handle()) != CURLM_OK) {
        throw std::runtime_error("curl_multi_add_handle failed");
    }
    const auto id = t->notification_id();
    transfers_.emplace(id, std::move(t));
}

void Notifier::collect_finished() {
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi_.get(), &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        Transfer* raw = nullptr;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &raw);
        const CURLcode rc = m->data.result;  // read before the handle is removed
        if (raw != nullptr) end_transfer(raw->notification_id(), rc);
    }
    // After reading what arrived: an answer that came in time while the
    // loop was held up counts (Transfer::overdue).
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::int64_t> overdue;
    for (const auto& [id, t] : transfers_)
        if (t->overdue(now)) overdue.push_back(id);
    for (const std::int64_t id : overdue) end_transfer(id, CURLE_OPERATION_TIMEDOUT);
}

void Notifier::end_transfer(std::int64_t id, CURLcode rc) {
    auto t = transfers_.find(id);
    if (t == transfers_.end()) return;
    const AttemptOutcome o = t->second->outcome(rc);
    curl_multi_remove_handle(multi_.get(), t->second->handle());
    transfers_.erase(t);
    if (auto row = rows_.find(id); row != rows_.end()) finish(row->second, o);
}

void Notifier::finish(const db::ClaimedNotification& row, const AttemptOutcome& o) {
    const int retries =
        row.type == "webhook" ? settings_.options.webhook_retries : settings_.options.email_retries;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    db::DeliveryRecord rec = decide(row.id, o, row.attempts, retries, unit(rng_));
    const char* what = rec.state == db::DeliveryRecord::State::delivered ? "delivered"
                       : rec.state == db::DeliveryRecord::State::retry   ? "failed, will retry"
                                                                         : "failed";
    const log::Level level =
        rec.state == db::DeliveryRecord::State::delivered ? log::Level::info : log::Level::warning;
    log::write(level, "notifier", std::string("notification ") + what,
               {{"job_id", row.job_id},
                {"notification_id", row.id},
                {"type", row.type},
                {"attempt", row.attempts},
                {"response_code", o.response_code ? nlohmann::json(*o.response_code) : nullptr},
                {"error", o.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.error)}});
    metrics::worker_metrics().notification(
        row.type, rec.state == db::DeliveryRecord::State::delivered ? "delivered"
                  : rec.state == db::DeliveryRecord::State::retry   ? "retry"
                                                                    : "failed");
    rec.job_id = row.job_id;
    unrecorded_.push(std::move(rec));
    // Its account was at its share: its next due rows were left out of the
    // claims and of the next claim time; one can be claimed now.
    const std::int64_t account = row.account_id;
    const auto same_account = std::count_if(rows_.begin(), rows_.end(), [account](const auto& r) {
        return r.second.account_id == account;
    });
    if (same_account >= settings_.options.effective_account_max_concurrent()) want_claim_ = true;
    rows_.erase(row.id);  // row may refer into rows_: erase last
}

void Notifier::flush_records() {
    unrecorded_.pass([this] { return static_cast<bool>(session_); },
                     [this](const db::DeliveryRecord& r) { return record_outcome(r); });
}

util::RecordStep Notifier::record_outcome(const db::DeliveryRecord& r) {
    try {
        if (!db::record_delivery(session_->conn(), settings_.worker_id, r)) {
            kLog.warning("notification lease lost, outcome discarded",
                         {{"job_id", r.job_id}, {"notification_id", r.id}});
        }
        if (r.state == db::DeliveryRecord::State::retry) want_claim_ = true;
        return util::RecordStep::recorded;
    } catch (const pqxx::in_doubt_error&) {
        // The connection was lost during the COMMIT: whether it went
        // through is unknown. Kept, and recorded again once connected
        // (a COMMIT that went through leaves nothing to update: "lease
        // lost"); dropped, the row would wait for its lease and be sent
        // again.
        session_.drop("while committing an outcome");
        return util::RecordStep::kept;
    } catch (const pqxx::broken_connection&) {
        session_.drop("while recording an outcome");
        return util::RecordStep::kept;
    } catch (const pqxx::sql_error& e) {
        if (db::means_unavailable(e)) {
            // A full disk, a cancelled statement, a server going down: kept
            // and recorded later; dropped, a delivered message would be
            // failed or sent again. As in Scheduler::record_outcome: a
            // closed connection is reopened, an open one that refused the
            // statement is kept.
            if (!session_->conn().is_open()) {
                session_.drop("while recording an outcome");
                return util::RecordStep::kept;
            }
            kLog.warning("recording a notification outcome refused for now, tried again later",
                         {{"job_id", r.job_id}, {"notification_id", r.id}, {"error", e.what()}});
            metrics::worker_metrics().database_error("notifier");
            return util::RecordStep::refused;
        }
        kLog.error("recording a notification outcome failed",
                   {{"job_id", r.job_id}, {"notification_id", r.id}, {"error", e.what()}});
    } catch (const std::exception& e) {
        kLog.error("recording a notification outcome failed",
                   {{"job_id", r.job_id}, {"notification_id", r.id}, {"error", e.what()}});
    }
    metrics::worker_metrics().database_error("notifier");
    return util::RecordStep::dropped;
}

int Notifier::wait_timeout_ms() const {
    long curl_ms = -1;
    curl_multi_timeout(multi_.get(), &curl_ms);
    long ms = kMaxWaitMs;
    if (curl_ms >= 0) ms = std::min(ms, curl_ms);
    // With every slot taken nothing can be claimed, whatever is due: wait
    // for a delivery to end (curl wakes the poll) instead of spinning on a
    // claim time that has passed.
    const bool room = static_cast<int>(rows_.size()) < settings_.options.max_concurrent;
    if (session_ && room) {
        const auto now = std::chrono::steady_clock::now();
        // While claims are held, a wish to claim (a NOTIFY, a release)
        // waits for the hold too: polling at 0 ms would spin a core.
        const bool held = now < claims_held_until_;
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::max(next_claim_, claims_held_until_) - now)
                               .count();
        ms = std::clamp<long>(until, 0, ms);
        if (want_claim_ && !held) ms = 0;
    }
    return static_cast<int>(ms);
}

void Notifier::run(const std::atomic<bool>& stop) {
    kLog.info("started",
              {{"worker_id", settings_.worker_id},
               {"email", settings_.smtp_url.empty() ? "mail directory " + settings_.mail_dir
                                                    : std::string("SMTP")}});
    while (!stop.load()) {
        if (session_.ensure()) want_claim_ = true;
        if (session_.take_notifications()) want_claim_ = true;
        flush_records();
        claim_and_start();
        start_resolved_webhooks();
        collect_finished();
        flush_records();

        curl_waitfd extra{};
        unsigned extra_count = 0;
        if (session_) {
            extra.fd = session_->fd();
            extra.events = CURL_WAIT_POLLIN;
            extra_count = 1;
        }
        curl_multi_poll(multi_.get(), extra_count ? &extra : nullptr, extra_count,
                        wait_timeout_ms(), nullptr);
    }
    drain();
    kLog.info("stopped");
}

void Notifier::drain() {
    release_unstarted();
    // With the rows a lost connection stranded, if it is back.
    if (session_.ensure()) want_claim_ = true;
    if (session_) release_claimed();
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(settings_.options.shutdown_grace);
    if (!transfers_.empty()) {
        kLog.info("stopping: waiting for deliveries in flight",
                  {{"grace_seconds", settings_.options.shutdown_grace},
                   {"in_flight", transfers_.size()}});
    }
    while (!transfers_.empty()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) break;
        if (session_.ensure()) want_claim_ = true;
        collect_finished();
        flush_records();
        if (transfers_.empty()) break;
        curl_multi_poll(multi_.get(), nullptr, 0,
                        static_cast<int>(std::min<long long>(left, kMaxWaitMs)), nullptr);
    }
    abandon_in_flight();
    // The back-off would outlast the stop: one attempt now for what only
    // the database can take.
    if (!unrecorded_.empty()) session_.ensure_now();
    unrecorded_.retry_refused_now();  // and whatever the back-off for refusals says
    flush_records();
    if (!unrecorded_.empty()) {
        kLog.warning("outcomes not recorded (no database): settled when their lease expires",
                     {{"count", unrecorded_.size()}});
    }
}

void Notifier::release_unstarted() {
    // Nothing of these was sent: another worker (or this one after a
    // restart) may send them without any risk of a duplicate.
    // A lookup still running is abandoned, not waited for.
    for (auto& p : resolving_) {
        unsent_claims_.push_back(p.row.id);
        rows_.erase(p.row.id);
    }
    resolving_.clear();
}

void Notifier::abandon_in_flight() {
    // The receiver may already have these: like a crash, they are not sent
    // again unless retries are configured.
    for (auto& [id, t] : transfers_) {
        curl_multi_remove_handle(multi_.get(), t->handle());
        if (auto row = rows_.find(id); row != rows_.end()) {
            finish(row->second, failure(db::kInterruptedError, false));
        }
    }
    transfers_.clear();
}

}  // namespace enconvert::notify

#include "db/reconnecting_session.h"

#include "log/log.h"
#include "metrics/worker_metrics.h"

namespace enconvert::db {

ReconnectingSession::ReconnectingSession(std::string database_url,
                                         std::vector<std::string> channels, std::string component,
                                         std::chrono::milliseconds statement_timeout)
    : database_url_(std::move(database_url)),
      channels_(std::move(channels)),
      component_(std::move(component)),
      statement_timeout_(statement_timeout),
      session_(open()) {}

std::unique_ptr<Session> ReconnectingSession::open() const {
    auto session = std::make_unique<Session>(database_url_, channels_, component_);
    if (statement_timeout_.count() > 0) session->set_statement_timeout(statement_timeout_);
    return session;
}

bool ReconnectingSession::ensure() {
    if (session_) return false;
    if (!backoff_.due(util::Backoff::clock::now())) return false;
    return ensure_now();
}

bool ReconnectingSession::ensure_now() {
    if (session_) return true;
    const auto now = util::Backoff::clock::now();
    try {
        session_ = open();
        backoff_.succeeded();
        log::write(log::Level::info, component_, "database connection restored");
        return true;
    } catch (const std::exception&) {
        backoff_.failed(now);
        return false;
    }
}

void ReconnectingSession::drop(const char* why) {
    if (!session_) return;
    log::write(log::Level::error, component_, "database connection lost, reconnecting",
               {{"why", why}});
    metrics::worker_metrics().database_error(component_);
    session_.reset();
    backoff_.failed(util::Backoff::clock::now());
}

bool ReconnectingSession::take_notifications() {
    if (!session_) return false;
    try {
        return !session_->take_notifications().empty();
    } catch (const std::exception&) {
        drop("notification read failed");
        return false;
    }
}

}  // namespace enconvert::db

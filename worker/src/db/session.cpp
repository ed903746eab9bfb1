#include "db/session.h"

#include "db/connection_defaults.h"

namespace enconvert::db {

class Session::Receiver : public pqxx::notification_receiver {
  public:
    Receiver(pqxx::connection& c, const std::string& channel, std::vector<Notification>& queue)
        : pqxx::notification_receiver(c, channel), queue_(queue) {}
    void operator()(const std::string& payload, int) override {
        queue_.push_back({channel(), payload});
    }

  private:
    std::vector<Notification>& queue_;
};

namespace {

// libpqxx 6 reconnects a lost connection by itself at a later use (seen at
// the third after the server ended the backend), which
// would drop what this session set up (statement_timeout, plan_cache_mode)
// and hide the gap in which NOTIFYs were lost. The owner must see the loss
// (pqxx::broken_connection on every use) and open a new Session, which
// sets everything up again and makes the owner look for what it missed
// (db/reconnecting_session.h). libpqxx 7 no longer reconnects and dropped
// this switch; 6.4 marks it deprecated.
void never_reconnect_silently(pqxx::connection& conn) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn.inhibit_reactivation(true);
#pragma GCC diagnostic pop
}

}  // namespace

Session::Session(const std::string& url, const std::vector<std::string>& channels,
                 const std::string& component)
    : conn_(std::make_unique<pqxx::connection>(with_connection_defaults(url, component))) {
    never_reconnect_silently(*conn_);
    // The worker's named statements (db/prepared.h) look rows up by key or
    // by literal states, so one generic plan serves every value. PostgreSQL
    // would plan each execution anew for its first five and often after
    // (0.3-0.5 ms a statement; a claim's two took 1.7 ms with their parsing,
    // on every task's path).
    {
        pqxx::nontransaction tx(*conn_);
        tx.exec("SET plan_cache_mode = force_generic_plan");
    }
    for (const auto& ch : channels) {
        receivers_.push_back(std::make_unique<Receiver>(*conn_, ch, queue_));
    }
}

Session::~Session() {
    receivers_.clear();  // unregister before the connection goes away
}

void Session::set_statement_timeout(std::chrono::milliseconds timeout) {
    pqxx::nontransaction tx(*conn_);
    tx.exec("SET statement_timeout = " + std::to_string(timeout.count()));
}

std::vector<Notification> Session::take_notifications() {
    if (!conn_->is_open()) throw pqxx::broken_connection("connection closed");
    conn_->get_notifs();
    std::vector<Notification> out;
    out.swap(queue_);
    return out;
}

}  // namespace enconvert::db

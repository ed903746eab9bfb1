// One PostgreSQL connection plus its LISTEN registrations, owned by exactly
// one thread. Notifications are queued, not acted on inside libpqxx's
// callback, so the owner can run queries while handling them.
#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace enconvert::db {

struct Notification {
    std::string channel;
    std::string payload;
};

class Session {
  public:
    // Connects and LISTENs on every channel. Throws pqxx exceptions.
    // `component` names the connection in pg_stat_activity
    // (db/connection_defaults.h).
    Session(const std::string& url, const std::vector<std::string>& channels,
            const std::string& component = "");
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    pqxx::connection& conn() { return *conn_; }
    int fd() const { return conn_->sock(); }

    // Bounds every later statement on this connection (server-side
    // statement_timeout): a query stuck behind a lock fails with SQLSTATE
    // 57014 instead of blocking the owning thread's loop forever.
    void set_statement_timeout(std::chrono::milliseconds timeout);
    // Reads whatever arrived on the socket (non-blocking) and returns the
    // queued notifications. Must run before every wait on fd(): a query may
    // already have pulled a notification into libpq's buffer, and then the
    // socket would not wake us (lost wakeup). Throws pqxx::broken_connection.
    std::vector<Notification> take_notifications();

  private:
    class Receiver;
    // Declared first so it is destroyed last: receivers unregister from it.
    std::unique_ptr<pqxx::connection> conn_;
    std::vector<std::unique_ptr<Receiver>> receivers_;
    std::vector<Notification> queue_;
};

}  // namespace enconvert::db

// A Session that reconnects by itself: a component's event loop calls
// ensure() on every turn and drop() when a query finds the connection broken;
// reconnects are spaced by an exponential back-off. Owned by one thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "db/session.h"
#include "util/backoff.h"

namespace enconvert::db {

class ReconnectingSession {
  public:
    // Connects at once (throws like Session) so a wrong database_url is
    // reported at start-up; later losses are retried. `component` names the
    // owner in log lines. A `statement_timeout` above zero is set on every
    // connection it opens: a statement that waits longer (a row another
    // session keeps locked) fails with SQLSTATE 57014 and the connection
    // stays open.
    ReconnectingSession(std::string database_url, std::vector<std::string> channels,
                        std::string component, std::chrono::milliseconds statement_timeout = {});

    // Connects if disconnected and the back-off allows; true when this call
    // restored the connection (the owner may have missed notifications).
    bool ensure();
    // One attempt now, whatever the back-off says: the last chance of an
    // owner that stops and holds what only the database can take (the
    // back-off, up to 10 s, would outlast the stop). True when connected.
    bool ensure_now();
    // Forgets a broken connection; ensure() retries after the back-off.
    void drop(const char* why);
    // True when any notification arrived; a failed read drops the session.
    bool take_notifications();

    explicit operator bool() const { return static_cast<bool>(session_); }
    Session* operator->() const { return session_.get(); }

  private:
    std::unique_ptr<Session> open() const;

    std::string database_url_;
    std::vector<std::string> channels_;
    std::string component_;
    std::chrono::milliseconds statement_timeout_;
    std::unique_ptr<Session> session_;
    util::Backoff backoff_;
};

}  // namespace enconvert::db

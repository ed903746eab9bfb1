// A Session that reconnects by itself: a component's event loop calls
// ensure() on every turn and drop() when a query finds the connection broken;
// reconnects are spaced by an exponential back-off. Owned by one thread.
#pragma once

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
    // owner in log lines.
    ReconnectingSession(std::string database_url, std::vector<std::string> channels,
                        std::string component);

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
    std::string database_url_;
    std::vector<std::string> channels_;
    std::string component_;
    std::unique_ptr<Session> session_;
    util::Backoff backoff_;
};

}  // namespace enconvert::db

#include "scheduler/claim_loop.h"

#include <poll.h>

#include <exception>
#include <pqxx/pqxx>
#include <string>

#include "metrics/worker_metrics.h"

namespace enconvert::scheduler {

namespace {
constexpr std::chrono::milliseconds kStopCheck{250};
}  // namespace

void run_claim_loop(db::ReconnectingSession& session, const std::atomic<bool>& stop,
                    std::chrono::milliseconds poll_interval, const log::Logger& log,
                    const char* component, const char* what,
                    const std::function<bool()>& work_one) {
    auto next_look = std::chrono::steady_clock::now();
    while (!stop.load()) {
        bool look = session.ensure();
        if (session.take_notifications()) look = true;
        if (std::chrono::steady_clock::now() >= next_look) look = true;
        if (session && look) {
            next_look = std::chrono::steady_clock::now() + poll_interval;
            try {
                while (!stop.load() && work_one()) {
                }
            } catch (const pqxx::broken_connection&) {
                session.drop((std::string("while ") + what).c_str());
            } catch (const std::exception& e) {
                // The job's lease runs out and it is tried again.
                log.error(std::string(what) + " failed", {{"error", e.what()}});
                metrics::worker_metrics().database_error(component);
            }
        }
        pollfd fd{session ? session->fd() : -1, POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(kStopCheck.count()));
    }
}

}  // namespace enconvert::scheduler

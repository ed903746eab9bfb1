// The loop of a component that works through leased jobs one at a time (the
// batch archiver, the site discoverer): wake on a NOTIFY or every
// poll_interval (a job whose lease ran out is found that way), work until
// nothing is left, reconnect the database with back-off, never exit on a
// failed job (its lease runs out and it is tried again).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "db/reconnecting_session.h"
#include "log/log.h"

namespace enconvert::scheduler {

// Runs until `stop`. `work_one` claims and handles one job, false when none
// was waiting; pqxx errors it throws are logged (`what` names the work) and
// counted as database errors of `component`.
void run_claim_loop(db::ReconnectingSession& session, const std::atomic<bool>& stop,
                    std::chrono::milliseconds poll_interval, const log::Logger& log,
                    const char* component, const char* what, const std::function<bool()>& work_one);

}  // namespace enconvert::scheduler

// What the intake is configured with (worker.conf, docs/internals.md).
#pragma once

#include <chrono>
#include <set>
#include <string>

#include "db/job_types.h"

namespace enconvert::intake {

struct IntakeOptions {
    std::string listen;        // ZeroMQ endpoint to bind
    std::string database_url;  // libpq connection string
    // How long a sync request is remembered; longer than any module's
    // enconvert_sync_timeout, after which the module answered 202 itself.
    std::chrono::seconds sync_wait{600};
    // Bound on every statement of an intake connection: a loop serves many
    // requests, so a query stuck behind a lock must fail (503) rather than
    // stall the requests behind it.
    std::chrono::milliseconds statement_timeout{5000};
    // Tighter bound for the health check's `SELECT 1`.
    std::chrono::milliseconds health_timeout{2000};
    // Bounds on unfinished tasks past which jobs are refused (back-pressure).
    db::QueueLimits queue_limits{};
    // How long finished jobs are kept (0: forever): bounds how long nginx
    // may answer a finished job's status itself.
    std::chrono::seconds retention{0};
    // CURVE (docs/scaling.md): this worker's secret key (Z85; empty: no
    // CURVE) and the nginx hosts' public keys it lets in.
    std::string curve_secret_key{};
    std::set<std::string> curve_allowed_clients{};
    // ZeroMQ heartbeats: a connection silent this long is dropped.
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds heartbeat_timeout{3000};
    // Intake loops (intake_threads), each on its own thread with its own
    // database connection: while one waits for its commit, another reads
    // and commits the next group.
    int loops = 1;
    // At stop, the intake answers what the modules still send until nothing
    // moved this long (a module told "stopping" sends elsewhere within
    // milliseconds).
    std::chrono::milliseconds drain_quiet{200};
};

}  // namespace enconvert::intake

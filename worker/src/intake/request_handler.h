// What the intake does with one decoded request, independent of sockets:
// authenticate, run the database work, compose the answer. Database
// connectivity errors (pqxx::broken_connection) propagate to the caller,
// which owns the connection and its reconnect.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "api/responses.h"
#include "auth/api_keys.h"
#include "db/job_types.h"
#include "intake/wire.h"
#include "storage/presign.h"

namespace enconvert::intake {

struct ConvertOutcome {
    // Set when the request is answered now (async 202, errors, 409 for a
    // reused idempotency key, replay of a finished job). Otherwise the caller
    // sends `accepted` and waits for job_id (also for a sync replay of a job
    // that is still processing).
    std::optional<api::HttpAnswer> final;
    std::optional<std::string> job_id;
    std::int64_t account_id = 0;
    bool direct_download = false;
    // Where the job's notifications go (api::notification_sentences), for
    // the `accepted` of a request still waiting.
    std::string notice;
    // A website capture: without `final`, the caller waits for its
    // discovery (website_result) rather than for the job's end.
    bool website = false;
};

class RequestHandler {
  public:
    // `queue_limits`: the queue's bounds; a job that would cross one is
    // refused (429/503 queue_full) and nothing is enqueued. `retention`:
    // how long finished jobs are kept (0: forever), the longest nginx may
    // keep a finished job's status answer.
    explicit RequestHandler(storage::Presigner presigner, db::QueueLimits queue_limits = {},
                            std::chrono::seconds retention = {})
        : presigner_(std::move(presigner)), queue_limits_(queue_limits), retention_(retention) {}

    ConvertOutcome convert(pqxx::connection& conn, const ConvertRequest& req);
    // Several requests' jobs committed together (group commit: one
    // transaction and one WAL flush), each answered as convert() would;
    // outcomes in the requests' order. A failed commit throws and none of
    // them is enqueued: the caller answers every one of them 503. When the
    // group's statement fails, each job is inserted alone; if the
    // connection is lost meanwhile, the jobs already committed keep their
    // answers, the one being inserted is answered 503 (or, lost during its
    // COMMIT, as in doubt) and so are those after it, and nothing throws:
    // the caller sees the connection closed.
    std::vector<ConvertOutcome> convert_all(pqxx::connection& conn,
                                            const std::vector<ConvertRequest>& reqs);
    // The read-only requests (status, batch, download, whoami, verify).
    api::HttpAnswer status(pqxx::connection& conn, const StatusRequest& req);
    // Several read-only requests, each answered as status() would, their
    // jobs read in one statement (the polls of one wake-up); answers in the
    // requests' order. A database error throws for all of them.
    std::vector<api::HttpAnswer> status_all(pqxx::connection& conn,
                                            const std::vector<StatusRequest>& reqs);

    // The final answer for a sync request once its job is terminal;
    // nullopt while it is still processing (or if it vanished).
    std::optional<api::HttpAnswer> sync_result(pqxx::connection& conn, const std::string& job_id,
                                               std::int64_t account_id, bool direct_download);

    // The answer to a website capture's request once its discovery is
    // recorded; nullopt while it is pending.
    std::optional<api::HttpAnswer> website_result(pqxx::connection& conn, const std::string& job_id,
                                                  std::int64_t account_id);

  private:
    // A request checked and its job built, not yet inserted; `outcome.final`
    // set when it is answered without a job (bad key, bad pattern).
    struct Prepared {
        const ConvertRequest* request = nullptr;
        ConvertOutcome outcome;
        db::NewJob job;
        std::int64_t account_id = 0;
        bool sync = false;
        bool website = false;
    };
    Prepared prepare(pqxx::connection& conn, const ConvertRequest& req);
    // prepare(), a cut-off COMMIT of its reads thrown as a lost connection.
    Prepared prepare_reading(pqxx::connection& conn, const ConvertRequest& req);
    ConvertOutcome finish(pqxx::connection& conn, Prepared p, const db::InsertResult& ins);
    // `read` (the answer of a committed job) or, if it throws, no answer
    // yet: the request then waits for the job.
    std::optional<api::HttpAnswer> read_after_commit(
        const std::string& job_id, const std::function<std::optional<api::HttpAnswer>()>& read);
    // A read-only request answered without its job (bad key, whoami,
    // verify, download); otherwise nullopt and `account_id` is the key's.
    std::optional<api::HttpAnswer> answer_without_job(pqxx::connection& conn,
                                                      const StatusRequest& req,
                                                      std::int64_t& account_id);
    // The status or batch answer from the job read by our id (`job`), or
    // else by the client's own id.
    api::HttpAnswer answer_with_job(pqxx::connection& conn, const StatusRequest& req,
                                    std::int64_t account_id, std::optional<db::JobView> job);

    auth::KeyCache keys_;
    storage::Presigner presigner_;
    db::QueueLimits queue_limits_;
    std::chrono::seconds retention_;
};

}  // namespace enconvert::intake

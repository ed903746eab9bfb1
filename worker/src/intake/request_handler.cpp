#include "intake/request_handler.h"

#include <utility>

#include "api/client_answers.h"
#include "api/website_answers.h"
#include "crawl/url_filter.h"
#include "db/errors.h"
#include "db/job_repository.h"
#include "intake/fingerprint.h"
#include "log/log.h"
#include "metrics/worker_metrics.h"
#include "options/option_limits.h"
#include "scheduler/site_discoverer.h"
#include "util/ids.h"

namespace enconvert::intake {

namespace {

constexpr log::Logger kLog{"intake"};

std::optional<std::string> option_string(const nlohmann::json& options, const char* key) {
    if (auto it = options.find(key); it != options.end() && it->is_string()) {
        return it->get<std::string>();
    }
    return std::nullopt;
}

bool option_bool(const nlohmann::json& options, const char* key) {
    auto it = options.find(key);
    return it != options.end() && it->is_boolean() && it->get<bool>();
}

// 400 invalid_pattern naming the first include/exclude pattern that cannot
// be used (docs/website-capture.md "Patterns").
std::optional<api::HttpAnswer> website_pattern_refusal(const nlohmann::json& options) {
    for (const char* field : {"include_patterns", "exclude_patterns"}) {
        const auto it = options.find(field);
        if (it == options.end() || it->is_null()) continue;
        if (!it->is_array()) {
            // The discoverer would ignore it and capture the whole site.
            return api::error_answer(
                400, "invalid_pattern",
                std::string(field) + " must be an array of regular expressions (strings).",
                std::string(field));
        }
        for (std::size_t i = 0; i < it->size(); ++i) {
            const auto& p = (*it)[i];
            const auto why = p.is_string() ? crawl::pattern_error(p.get<std::string>())
                                           : std::optional<std::string>("it is not a string");
            if (why) {
                const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
                return api::error_answer(400, "invalid_pattern",
                                         "The pattern " + where + " cannot be used: " + *why,
                                         std::string(field));
            }
        }
    }
    return std::nullopt;
}

// 400 out_of_range for a crawl limit outside schema/options.json, as the
// module answers: the renderer never reads these, so the intake is the
// worker's one check of them.
std::optional<api::HttpAnswer> website_limit_refusal(const nlohmann::json& options) {
    namespace schema = enconvert::options;
    const std::pair<const char*, schema::Range> limits[] = {{"max_pages", schema::max_pages},
                                                            {"max_depth", schema::max_depth}};
    for (const auto& [field, range] : limits) {
        const auto it = options.find(field);
        if (it == options.end() || it->is_null()) continue;
        const auto min = static_cast<long>(range.min);
        const auto max = static_cast<long>(range.max);
        if (!it->is_number_integer() || it->get<long>() < min || it->get<long>() > max) {
            return api::error_answer(400, "out_of_range",
                                     "\"" + std::string(field) + "\" must be between " +
                                         std::to_string(min) + " and " + std::to_string(max),
                                     field);
        }
    }
    return std::nullopt;
}

}  // namespace

RequestHandler::Prepared RequestHandler::prepare(pqxx::connection& conn,
                                                 const ConvertRequest& req) {
    Prepared p;
    p.request = &req;
    ConvertOutcome& out = p.outcome;
    const auto identity = keys_.lookup(conn, req.key);
    if (!identity) {
        out.final = api::invalid_api_key_answer();
        return p;
    }
    const bool website = db::is_website_endpoint(req.endpoint);
    if (website) {
        // Checked before anything is created: a pattern PCRE2 cannot
        // compile would otherwise fail the discovery later.
        if (auto refusal = website_pattern_refusal(req.options)) {
            out.final = std::move(refusal);
            return p;
        }
        if (auto refusal = website_limit_refusal(req.options)) {
            out.final = std::move(refusal);
            return p;
        }
    }
    // A URL array is always async (docs/api.md), whatever the flag says; so
    // is a website capture, a batch of the pages its discovery finds.
    const bool sync = !req.async && !req.batch && !website;

    db::NewJob job;
    job.id = util::new_job_id(req.batch || website);
    job.account_id = identity->account_id;
    job.api_key_id = identity->key_id;
    job.endpoint = req.endpoint;
    job.is_batch = req.batch;
    job.is_sync = sync;
    job.options = req.options;
    // The client's own id is the job's name, not a render option.
    job.client_id = option_string(req.options, "job_id");
    job.options.erase("job_id");
    job.notification_email = option_string(req.options, "notification_email");
    job.callback_url = option_string(req.options, "callback_url");
    job.base_url = req.base_url;
    job.idempotency_key = req.idempotency_key;
    if (req.idempotency_key) job.request_fingerprint = request_fingerprint(req);
    job.urls = req.urls;
    if (website) {
        // No task yet: discovery finds the pages (db/site_discoveries.h),
        // starting at the request's one URL; the pages always come as a ZIP.
        job.discover = true;
        job.is_batch = true;
        job.options["url"] = req.urls.front();
        job.options["output_format"] = "zip";
        job.urls.clear();
        // Held in the queue as that many tasks until the pages are found:
        // the page limit the discovery will read from these options.
        db::DiscoveryJob discovery;
        discovery.options = job.options;
        job.discovery_reserved = static_cast<std::int64_t>(
            scheduler::crawl_options_for(discovery, scheduler::DiscovererOptions{}).max_pages);
    }
    p.account_id = identity->account_id;
    p.sync = sync;
    p.website = website;
    p.job = std::move(job);
    return p;
}

std::optional<api::HttpAnswer> RequestHandler::read_after_commit(
    const std::string& job_id, const std::function<std::optional<api::HttpAnswer>()>& read) {
    // The job is committed: a failure from here on must not answer as if it
    // were not (a 503 invites a retry, which would enqueue it twice; in a
    // group commit it answered every request of the group so). Without an
    // answer the request waits for its job like any sync request: answered
    // when the job (or its discovery) ends, after a reconnect, or 202 with
    // the job's id when the wait runs out.
    try {
        return read();
    } catch (const std::exception& e) {
        kLog.error("reading a committed job for its answer failed; the request waits for it",
                   {{"job_id", job_id}, {"error", e.what()}});
        metrics::worker_metrics().database_error("intake");
        return std::nullopt;
    }
}

ConvertOutcome RequestHandler::finish(pqxx::connection& conn, Prepared p,
                                      const db::InsertResult& ins) {
    const ConvertRequest& req = *p.request;
    ConvertOutcome& out = p.outcome;
    const bool sync = p.sync;
    const bool website = p.website;
    if (ins.queue_full) {
        const bool account = *ins.queue_full == db::QueueBound::account;
        kLog.warning("job refused: the queue is full", {{"account_id", p.account_id},
                                                        {"bound", account ? "account" : "global"},
                                                        {"tasks", ins.refused_tasks}});
        metrics::worker_metrics().job_refused(req.endpoint, account ? "account" : "global");
        out.final = api::queue_full_answer(
            *ins.queue_full, account ? queue_limits_.account_max_tasks : queue_limits_.max_tasks,
            static_cast<std::size_t>(ins.refused_tasks));
        return std::move(out);
    }
    if (ins.conflict) {
        kLog.warning("idempotency key reused with a different request",
                     {{"job_id", ins.job_id}, {"account_id", p.account_id}});
        out.final = api::idempotency_conflict_answer();
        return std::move(out);
    }
    out.job_id = ins.job_id;
    out.account_id = p.account_id;
    out.notice = api::notification_sentences(ins.notification_email, ins.callback_url);
    kLog.info(ins.created ? "job created" : "idempotent replay of a job",
              {{"job_id", ins.job_id},
               {"account_id", p.account_id},
               {"endpoint", req.endpoint},
               {"tasks", req.urls.size()},
               {"mode", sync ? "sync" : "async"}});
    if (ins.created) metrics::worker_metrics().job_accepted(req.endpoint);
    if (website) {
        // Answered once the discovery is recorded (website_result); a
        // replay of a job whose discovery is done is answered now.
        out.website = true;
        out.final = read_after_commit(
            ins.job_id, [&] { return website_result(conn, ins.job_id, p.account_id); });
        return std::move(out);
    }
    if (!sync) {
        out.final = api::accepted_answer(ins.job_id, ins.status, ins.notification_email,
                                         ins.callback_url, req.urls.size(),
                                         req.urls.size() > 1 && api::wants_zip(req.options));
        return std::move(out);
    }
    out.direct_download = option_bool(req.options, "direct_download");
    if (!ins.created) {
        // A sync retry gets what the first request gets (docs/decisions.md):
        // the final answer if the job is terminal, else it waits for the same
        // job (and the module answers 202 with its id if the wait runs out).
        out.final = read_after_commit(ins.job_id, [&] {
            return sync_result(conn, ins.job_id, p.account_id, out.direct_download);
        });
    }
    return std::move(out);
}

// The reads before an insert (the key look-up) create nothing: a COMMIT of
// theirs cut off is a lost connection (503, retry), not a job that may
// exist. The group path answered every request of its group, a bad key's
// included, "may have been created".
RequestHandler::Prepared RequestHandler::prepare_reading(pqxx::connection& conn,
                                                         const ConvertRequest& req) {
    try {
        return prepare(conn, req);
    } catch (const pqxx::in_doubt_error& e) {
        throw pqxx::broken_connection(e.what());
    }
}

ConvertOutcome RequestHandler::convert(pqxx::connection& conn, const ConvertRequest& req) {
    Prepared p = prepare_reading(conn, req);
    if (p.outcome.final) return std::move(p.outcome);
    const db::InsertResult ins = db::insert_job(conn, p.job, queue_limits_);
    return finish(conn, std::move(p), ins);
}

std::vector<ConvertOutcome> RequestHandler::convert_all(pqxx::connection& conn,
                                                        const std::vector<ConvertRequest>& reqs) {
    std::vector<Prepared> prepared;
    std::vector<std::size_t> to_insert;  // indexes into `prepared`
    std::vector<db::NewJob> jobs;
    prepared.reserve(reqs.size());
    for (const ConvertRequest& req : reqs) {
        prepared.push_back(prepare_reading(conn, req));
        if (!prepared.back().outcome.final) {
            to_insert.push_back(prepared.size() - 1);
            jobs.push_back(std::move(prepared.back().job));  // finish() needs only the rest
        }
    }
    // One transaction, one WAL flush for every job (db::insert_jobs); a
    // statement that fails sends each job through its own transaction, so
    // one bad job does not refuse the others. A failed commit throws. A
    // group the server refuses for now, whose connection is lost, or whose
    // COMMIT is in doubt answers its jobs' requests alike (503, or "may have
    // been created"); those answered without a job keep their own answers.
    std::optional<std::vector<db::InsertResult>> inserted;
    bool unavailable = false;
    bool in_doubt = false;
    if (!jobs.empty()) {
        try {
            inserted = db::insert_jobs(conn, jobs, queue_limits_);
        } catch (const pqxx::in_doubt_error& e) {
            kLog.error("group commit in doubt", {{"jobs", jobs.size()}, {"error", e.what()}});
            in_doubt = true;
        } catch (const pqxx::broken_connection& e) {
            kLog.error("group commit failed: the connection is lost",
                       {{"jobs", jobs.size()}, {"error", e.what()}});
            unavailable = true;
        } catch (const pqxx::sql_error& e) {
            if (!db::means_unavailable(e)) throw;
            kLog.error("group commit refused for now",
                       {{"jobs", jobs.size()}, {"error", e.what()}});
            metrics::worker_metrics().database_error("intake");
            unavailable = true;
        }
    }
    std::vector<ConvertOutcome> out;
    out.reserve(prepared.size());
    std::size_t next = 0;
    bool connection_lost = false;  // while inserting the jobs one by one
    const auto answered = [](api::HttpAnswer answer) {
        ConvertOutcome o;
        o.final = std::move(answer);
        return o;
    };
    for (std::size_t i = 0; i < prepared.size(); ++i) {
        if (next < to_insert.size() && to_insert[next] == i) {
            const std::size_t at = next++;
            if (inserted) {
                out.push_back(finish(conn, std::move(prepared[i]), (*inserted)[at]));
                continue;
            }
            if (in_doubt) {
                out.push_back(answered(
                    api::commit_in_doubt_answer(prepared[i].request->idempotency_key.has_value())));
                continue;
            }
            if (unavailable) {
                out.push_back(answered(api::database_unavailable_answer()));
                continue;
            }
            // Alone, after the group's statement failed: this job's own
            // error is its own answer, the others' jobs are unaffected.
            // The jobs committed before a lost connection stand and are
            // answered as such (a 503 would invite a retry, a second job);
            // the one being inserted and those after it were not stored.
            if (connection_lost) {
                out.push_back(answered(api::database_unavailable_answer()));
                continue;
            }
            try {
                out.push_back(finish(conn, std::move(prepared[i]),
                                     db::insert_job(conn, jobs[at], queue_limits_)));
            } catch (const pqxx::in_doubt_error& e) {
                // Lost during its COMMIT: the job may exist.
                kLog.error("job insert in doubt", {{"error", e.what()}});
                connection_lost = true;
                out.push_back(answered(
                    api::commit_in_doubt_answer(prepared[i].request->idempotency_key.has_value())));
            } catch (const pqxx::broken_connection& e) {
                kLog.error("job insert failed: the connection is lost", {{"error", e.what()}});
                connection_lost = true;
                out.push_back(answered(api::database_unavailable_answer()));
            } catch (const pqxx::sql_error& e) {
                kLog.error("job insert failed", {{"error", e.what()}});
                out.push_back(answered(db::means_unavailable(e) ? api::database_unavailable_answer()
                                                                : api::internal_error_answer()));
            }
        } else {
            out.push_back(std::move(prepared[i].outcome));
        }
    }
    return out;
}

api::HttpAnswer RequestHandler::status(pqxx::connection& conn, const StatusRequest& req) {
    std::int64_t account_id = 0;
    if (auto answer = answer_without_job(conn, req, account_id)) return std::move(*answer);
    return answer_with_job(conn, req, account_id, db::load_job(conn, req.job_id, account_id));
}

std::vector<api::HttpAnswer> RequestHandler::status_all(pqxx::connection& conn,
                                                        const std::vector<StatusRequest>& reqs) {
    std::vector<std::optional<api::HttpAnswer>> answers(reqs.size());
    std::vector<std::int64_t> accounts(reqs.size());
    std::vector<db::JobKey> keys;
    std::vector<std::size_t> asking;  // the requests behind `keys`
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        answers[i] = answer_without_job(conn, reqs[i], accounts[i]);
        if (answers[i]) continue;
        keys.push_back({reqs[i].job_id, accounts[i]});
        asking.push_back(i);
    }
    auto jobs = db::load_jobs(conn, keys);
    for (std::size_t k = 0; k < asking.size(); ++k) {
        const std::size_t i = asking[k];
        answers[i] = answer_with_job(conn, reqs[i], accounts[i], std::move(jobs[k]));
    }
    std::vector<api::HttpAnswer> out;
    out.reserve(answers.size());
    for (auto& a : answers) out.push_back(std::move(*a));
    return out;
}

std::optional<api::HttpAnswer> RequestHandler::answer_without_job(pqxx::connection& conn,
                                                                  const StatusRequest& req,
                                                                  std::int64_t& account_id) {
    const auto identity = keys_.lookup(conn, req.key);
    if (!identity) return api::invalid_api_key_answer();
    account_id = identity->account_id;
    switch (req.view) {
        case View::whoami:
            return api::whoami_answer(*identity);
        case View::verify:
            return api::verify_answer(*identity);
        case View::download:
            return api::download_answer(*identity, req.job_id, presigner_);
        case View::status:
        case View::batch:
            break;
    }
    return std::nullopt;
}

api::HttpAnswer RequestHandler::answer_with_job(pqxx::connection& conn, const StatusRequest& req,
                                                std::int64_t account_id,
                                                std::optional<db::JobView> job) {
    // Our id first, then the client's own (the newest job with it). Another
    // account's job answers exactly like an unknown one.
    if (!job) {
        if (const auto id = db::find_client_job(conn, req.job_id, account_id)) {
            job = db::load_job(conn, *id, account_id);
        }
    }
    if (!job) return api::job_not_found_answer();
    if (job->expired) return api::job_expired_answer(job->id);
    if (req.view == View::batch) return api::batch_answer(*job, presigner_);
    if (api::answers_as_client_job(*job)) return api::client_status_answer(*job, presigner_);
    api::HttpAnswer answer = api::status_answer(*job, presigner_);
    // Asked by our own id only: a client's id may name a newer job later.
    if (job->id == req.job_id)
        answer.cache = api::status_cache_hint(*job, answer.body, presigner_, retention_);
    return answer;
}

std::optional<api::HttpAnswer> RequestHandler::website_result(pqxx::connection& conn,
                                                              const std::string& job_id,
                                                              std::int64_t account_id) {
    const auto job = db::load_job(conn, job_id, account_id);
    if (!job) return api::job_not_found_answer();
    if (job->expired) return api::job_expired_answer(job->id);
    return api::website_answer(*job);
}

std::optional<api::HttpAnswer> RequestHandler::sync_result(pqxx::connection& conn,
                                                           const std::string& job_id,
                                                           std::int64_t account_id,
                                                           bool direct_download) {
    const auto job = db::load_job(conn, job_id, account_id);
    if (!job) return api::job_not_found_answer();
    if (job->expired) return api::job_expired_answer(job->id);
    if (job->status == "processing") return std::nullopt;
    return api::sync_answer(*job, presigner_, direct_download);
}

}  // namespace enconvert::intake


/*
 * enconvert nginx module: worker replies (msgpack) -> HTTP responses,
 * timeouts, and the module's own JSON error answers.
 */


#include "ngx_http_enconvert_module.h"

#include <jansson.h>
#include <msgpack.h>


/* the longest "notice" of an "accepted" reply kept for the module's 202 */
#define NGX_HTTP_ENCONVERT_NOTICE_MAX  1024


typedef struct {
    uint64_t            id;
    ngx_str_t           kind;
    ngx_str_t           job_id;
    ngx_str_t           notice;       /* where notifications go */
    ngx_uint_t          status;
    ngx_str_t           content_type;
    ngx_str_t           body;
    ngx_str_t           redirect;
    msgpack_object     *headers;
    msgpack_object     *cache;        /* a status answer nginx may keep */
    unsigned            has_v:1;
    unsigned            has_id:1;
    unsigned            has_status:1;
    unsigned            has_ct:1;
    unsigned            has_body:1;
    unsigned            has_redirect:1;
    unsigned            bad:1;
} ngx_http_enconvert_reply_t;


#define NGX_HTTP_ENCONVERT_STILL_PROCESSING                                   \
    "the render did not finish while the request waited; the job goes "   \
    "on: poll GET /v1/convert/status/%V, or the status of your job_id, "  \
    "for the result"


static ngx_int_t ngx_http_enconvert_parse_reply(msgpack_object *o,
    ngx_http_enconvert_reply_t *rp);
static ngx_int_t ngx_http_enconvert_relay(ngx_http_request_t *r,
    ngx_http_enconvert_reply_t *rp);
static ngx_int_t ngx_http_enconvert_valid_token(const u_char *p,
    size_t len, ngx_uint_t value);
static ngx_int_t ngx_http_enconvert_send_processing(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx);
static ngx_int_t ngx_http_enconvert_nginx_page(ngx_http_request_t *r);
static json_t *ngx_http_enconvert_json_str(u_char *p, size_t len);
static ngx_int_t ngx_http_enconvert_send_dump(ngx_http_request_t *r,
    ngx_uint_t status, json_t *obj);


#define ngx_http_enconvert_str_is(s, lit)                                     \
    ((s)->len == sizeof(lit) - 1                                              \
     && ngx_strncmp((s)->data, lit, sizeof(lit) - 1) == 0)


void
ngx_http_enconvert_handle_reply(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log, u_char *data, size_t len)
{
    size_t                       off;
    ngx_int_t                    rc;
    ngx_msec_t                   elapsed;
    ngx_connection_t            *c;
    msgpack_unpacked             up;
    ngx_http_request_t          *r;
    ngx_http_enconvert_ctx_t    *ctx;
    ngx_http_enconvert_reply_t   rp;

    msgpack_unpacked_init(&up);
    off = 0;

    if (msgpack_unpack_next(&up, (const char *) data, len, &off)
        != MSGPACK_UNPACK_SUCCESS
        || off != len)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "enconvert: dropped an undecodable backend reply "
                      "(%uz bytes)", len);
        goto bad;
    }

    ngx_memzero(&rp, sizeof(ngx_http_enconvert_reply_t));

    if (ngx_http_enconvert_parse_reply(&up.data, &rp) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "enconvert: dropped a malformed backend reply");
        goto bad;
    }

    if (ngx_http_enconvert_str_is(&rp.kind, "stopping")) {
        ngx_http_enconvert_backend_stopping(peer, log);
        goto done;
    }

    ctx = ngx_http_enconvert_backend_lookup(rp.id);

    if (ctx == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "enconvert: dropped reply for unknown request %uL",
                       rp.id);
        goto done;
    }

    r = ctx->request;
    c = r->connection;

    if (ngx_http_enconvert_str_is(&rp.kind, "accepted")) {

        if (rp.bad || rp.job_id.len == 0 || rp.job_id.len > 128) {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "enconvert: \"accepted\" reply without a valid "
                          "job_id");
            goto bad;
        }

        ctx->job_id.data = ngx_pstrdup(r->pool, &rp.job_id);
        if (ctx->job_id.data == NULL) {
            goto done;
        }

        ctx->job_id.len = rp.job_id.len;

        if (rp.notice.len) {
            ctx->notice.data = ngx_pstrdup(r->pool, &rp.notice);
            if (ctx->notice.data == NULL) {
                goto done;
            }

            ctx->notice.len = rp.notice.len;
        }

        if (ctx->sync) {
            elapsed = ngx_current_msec - ctx->start;

            ngx_http_enconvert_backend_rearm(ctx,
                elapsed < ctx->sync_timeout ? ctx->sync_timeout - elapsed
                                            : 1);
        }

        goto done;
    }

    if (!ngx_http_enconvert_str_is(&rp.kind, "final")) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "enconvert: dropped a backend reply of unknown kind "
                      "\"%V\"", &rp.kind);
        goto bad;
    }

    ngx_http_enconvert_backend_finish(ctx);

    if (rp.bad || !rp.has_status || rp.status < 200 || rp.status > 599
        || (!rp.has_redirect && !rp.has_ct))
    {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "enconvert: malformed \"final\" backend reply");

        ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_BAD_REPLIES, 1);

        rc = ngx_http_enconvert_error(r, NGX_HTTP_BAD_GATEWAY,
                                      "bad_backend_reply",
                                      "the conversion worker sent an "
                                      "invalid answer", NULL);
    } else if (ctx->refusal == NULL
               || (rc = ngx_http_enconvert_refusal_reply(r, ctx, rp.status))
                  == NGX_DECLINED)
    {
        if (rp.cache && rp.status == NGX_HTTP_OK && rp.has_body
            && !rp.has_redirect && rp.headers == NULL)
        {
            ngx_http_enconvert_status_cache_store(r, ctx, rp.cache, &rp.body);
        }

        rc = ngx_http_enconvert_relay(r, &rp);
    }

    msgpack_unpacked_destroy(&up);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);

    return;

bad:

    ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_BAD_REPLIES, 1);

done:

    msgpack_unpacked_destroy(&up);
}


static ngx_int_t
ngx_http_enconvert_parse_reply(msgpack_object *o,
    ngx_http_enconvert_reply_t *rp)
{
    ngx_str_t            key;
    uint32_t             i;
    msgpack_object      *v;
    msgpack_object_kv   *kv;

    if (o->type != MSGPACK_OBJECT_MAP) {
        return NGX_ERROR;
    }

    for (i = 0; i < o->via.map.size; i++) {
        kv = &o->via.map.ptr[i];

        if (kv->key.type != MSGPACK_OBJECT_STR) {
            continue;
        }

        key.data = (u_char *) kv->key.via.str.ptr;
        key.len = kv->key.via.str.size;
        v = &kv->val;

        if (ngx_http_enconvert_str_is(&key, "v")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER
                || v->via.u64 != NGX_HTTP_ENCONVERT_PROTO_VERSION)
            {
                return NGX_ERROR;
            }

            rp->has_v = 1;

        } else if (ngx_http_enconvert_str_is(&key, "id")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                return NGX_ERROR;
            }

            rp->id = v->via.u64;
            rp->has_id = 1;

        } else if (ngx_http_enconvert_str_is(&key, "kind")) {
            if (v->type != MSGPACK_OBJECT_STR) {
                return NGX_ERROR;
            }

            rp->kind.data = (u_char *) v->via.str.ptr;
            rp->kind.len = v->via.str.size;

        } else if (ngx_http_enconvert_str_is(&key, "job_id")) {
            if (v->type != MSGPACK_OBJECT_STR) {
                rp->bad = 1;
                continue;
            }

            rp->job_id.data = (u_char *) v->via.str.ptr;
            rp->job_id.len = v->via.str.size;

        } else if (ngx_http_enconvert_str_is(&key, "notice")) {

            /* optional: a notice that is no short string is left out */

            if (v->type == MSGPACK_OBJECT_STR
                && v->via.str.size <= NGX_HTTP_ENCONVERT_NOTICE_MAX)
            {
                rp->notice.data = (u_char *) v->via.str.ptr;
                rp->notice.len = v->via.str.size;
            }

        } else if (ngx_http_enconvert_str_is(&key, "status")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                rp->bad = 1;
                continue;
            }

            rp->status = (ngx_uint_t) v->via.u64;
            rp->has_status = 1;

        } else if (ngx_http_enconvert_str_is(&key, "content_type")) {
            if (v->type != MSGPACK_OBJECT_STR
                || ngx_http_enconvert_valid_token(
                       (u_char *) v->via.str.ptr, v->via.str.size, 1)
                   != NGX_OK)
            {
                rp->bad = 1;
                continue;
            }

            rp->content_type.data = (u_char *) v->via.str.ptr;
            rp->content_type.len = v->via.str.size;
            rp->has_ct = 1;

        } else if (ngx_http_enconvert_str_is(&key, "body")) {
            if (v->type == MSGPACK_OBJECT_BIN) {
                rp->body.data = (u_char *) v->via.bin.ptr;
                rp->body.len = v->via.bin.size;

            } else if (v->type == MSGPACK_OBJECT_STR) {
                rp->body.data = (u_char *) v->via.str.ptr;
                rp->body.len = v->via.str.size;

            } else {
                rp->bad = 1;
                continue;
            }

            rp->has_body = 1;

        } else if (ngx_http_enconvert_str_is(&key, "internal_redirect")) {
            if (v->type != MSGPACK_OBJECT_STR) {
                rp->bad = 1;
                continue;
            }

            rp->redirect.data = (u_char *) v->via.str.ptr;
            rp->redirect.len = v->via.str.size;
            rp->has_redirect = 1;

        } else if (ngx_http_enconvert_str_is(&key, "headers")) {
            if (v->type != MSGPACK_OBJECT_ARRAY) {
                rp->bad = 1;
                continue;
            }

            rp->headers = v;

        } else if (ngx_http_enconvert_str_is(&key, "cache")) {
            rp->cache = v;
        }
    }

    if (!rp->has_v || !rp->has_id || rp->kind.len == 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_relay(ngx_http_request_t *r,
    ngx_http_enconvert_reply_t *rp)
{
    u_char           *p;
    uint32_t          i;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_str_t         name, value;
    ngx_chain_t       out;
    msgpack_object   *pair;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rp->headers) {
        for (i = 0; i < rp->headers->via.array.size; i++) {
            pair = &rp->headers->via.array.ptr[i];

            if (pair->type != MSGPACK_OBJECT_ARRAY
                || pair->via.array.size != 2
                || pair->via.array.ptr[0].type != MSGPACK_OBJECT_STR
                || pair->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "enconvert: skipped a malformed reply header");
                continue;
            }

            name.data = (u_char *) pair->via.array.ptr[0].via.str.ptr;
            name.len = pair->via.array.ptr[0].via.str.size;
            value.data = (u_char *) pair->via.array.ptr[1].via.str.ptr;
            value.len = pair->via.array.ptr[1].via.str.size;

            if (ngx_http_enconvert_valid_token(name.data, name.len, 0)
                != NGX_OK
                || ngx_http_enconvert_valid_token(value.data, value.len, 1)
                   != NGX_OK)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "enconvert: skipped an invalid reply header");
                continue;
            }

            /* nginx computes these itself */

            if ((name.len == sizeof("Content-Type") - 1
                 && ngx_strncasecmp(name.data, (u_char *) "Content-Type",
                                    name.len) == 0)
                || (name.len == sizeof("Content-Length") - 1
                    && ngx_strncasecmp(name.data,
                                       (u_char *) "Content-Length",
                                       name.len) == 0)
                || (name.len == sizeof("Transfer-Encoding") - 1
                    && ngx_strncasecmp(name.data,
                                       (u_char *) "Transfer-Encoding",
                                       name.len) == 0)
                || (name.len == sizeof("Connection") - 1
                    && ngx_strncasecmp(name.data, (u_char *) "Connection",
                                       name.len) == 0))
            {
                continue;
            }

            if (ngx_http_enconvert_add_header(r, name.data, name.len,
                                              value.data, value.len)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (rp->has_redirect) {
        if (ngx_http_enconvert_valid_object_key(&rp->redirect) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "enconvert: invalid internal_redirect key "
                          "in backend reply");
            ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_BAD_REPLIES,
                                             1);
            return ngx_http_enconvert_error(r, NGX_HTTP_BAD_GATEWAY,
                                            "bad_backend_reply",
                                            "the conversion worker sent an "
                                            "invalid answer", NULL);
        }

        return ngx_http_enconvert_redirect(r, &rp->redirect);
    }

    r->headers_out.status = rp->status;
    r->headers_out.content_length_n = rp->body.len;

    p = ngx_pnalloc(r->pool, rp->content_type.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, rp->content_type.data, rp->content_type.len);

    r->headers_out.content_type.data = p;
    r->headers_out.content_type.len = rp->content_type.len;
    r->headers_out.content_type_len = rp->content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (rp->body.len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_create_temp_buf(r->pool, rp->body.len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, rp->body.data, rp->body.len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


void
ngx_http_enconvert_timeout_handler(ngx_event_t *ev)
{
    ngx_int_t                  rc;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_enconvert_ctx_t  *ctx;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_enconvert_backend_finish(ctx);

    /*
     * a sync convert or a website capture the worker has accepted goes on
     * as a job: no timeout
     */

    if (!(ctx->sync && ctx->job_id.len)) {
        ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_TIMEOUTS, 1);
    }

    if (ctx->refusal) {
        rc = ngx_http_enconvert_refusal_reply(r, ctx, 0);

    } else if (ctx->op == NGX_HTTP_ENCONVERT_OP_HEALTH) {
        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "enconvert: health check timed out");
        rc = ngx_http_enconvert_unavailable(r, ctx);

    } else if (ctx->sync && ctx->job_id.len) {
        rc = ngx_http_enconvert_send_processing(r, ctx);

    } else {
        ngx_log_error(NGX_LOG_ERR, c->log, NGX_ETIMEDOUT,
                      "enconvert: backend timed out");

        rc = ngx_http_enconvert_error(r, NGX_HTTP_GATEWAY_TIME_OUT,
                                      "backend_timeout",
                                      "the conversion worker did not "
                                      "answer in time; retry later", NULL);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * The answer to a request whose worker's connection was lost before it
 * answered, and that was not (or could not be) sent to another worker.
 * A sync convert or a website capture the worker accepted goes on as a
 * job (202, as on its timeout); for any other convert the job may or may
 * not exist.
 */

ngx_int_t
ngx_http_enconvert_lost(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx)
{
    ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_UNAVAILABLE, 1);

    if (ctx->refusal) {
        return ngx_http_enconvert_refusal_reply(r, ctx, 0);
    }

    if (ctx->op == NGX_HTTP_ENCONVERT_OP_CONVERT && ctx->sync
        && ctx->job_id.len)
    {
        return ngx_http_enconvert_send_processing(r, ctx);
    }

    if (ctx->op != NGX_HTTP_ENCONVERT_OP_CONVERT) {
        return ngx_http_enconvert_unavailable(r, ctx);
    }

    if (ngx_http_enconvert_add_header(r, (u_char *) "Retry-After",
                                      sizeof("Retry-After") - 1,
                                      (u_char *) "1", 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->idempotent) {
        return ngx_http_enconvert_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "backend_unavailable",
                   "the conversion worker handling this request went away "
                   "and no other is reachable; retry with the same "
                   "Idempotency-Key, which creates no second job", NULL);
    }

    return ngx_http_enconvert_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
               "backend_unavailable",
               "the conversion worker handling this request went away "
               "before answering; the job may have been created: check "
               "before resubmitting, or send an Idempotency-Key to make "
               "a retry safe", NULL);
}


/*
 * 202 for a job the worker has stored but not answered in time: a sync
 * convert still rendering, or a website capture whose pages are still
 * being found (its page count unknown yet, its result always a ZIP).
 *
 * A sync convert whose body named its own job_id gets 504 instead: the
 * vendor's SDKs send one, read any 2xx as the finished result (a 202 gave
 * their callers an empty link) and poll the status of that id after a
 * 5xx.
 */

static ngx_int_t
ngx_http_enconvert_send_processing(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx)
{
    u_char                      *p;
    json_t                      *obj;
    const char                  *pre, *poll, *post;
    ngx_http_enconvert_error_t   err;

    if (ctx->client_id && !ctx->website) {
        p = ngx_pnalloc(r->pool, sizeof(NGX_HTTP_ENCONVERT_STILL_PROCESSING)
                                 + ctx->job_id.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        err.status = NGX_HTTP_GATEWAY_TIME_OUT;
        err.code = "still_processing";
        err.detail.data = p;
        err.detail.len = ngx_sprintf(p, NGX_HTTP_ENCONVERT_STILL_PROCESSING,
                                     &ctx->job_id)
                         - p;
        ngx_str_null(&err.field);

        return ngx_http_enconvert_send_error(r, &err);
    }

    if (ctx->website) {
        pre = "The site's pages are still being discovered.";
        poll = "Poll GET /v1/convert/batch/";
        post = " for progress.";

    } else {
        pre = "Job is still processing.";
        poll = "Poll GET /v1/convert/status/";
        post = " for the result.";
    }

    p = ngx_pnalloc(r->pool, ngx_strlen(pre) + ctx->notice.len + 2
                             + ngx_strlen(poll) + ctx->job_id.len
                             + ngx_strlen(post) + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    obj = json_object();
    if (obj == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* as the worker's own 202s: where the notifications go, if anywhere */

    *ngx_sprintf(p, "%s %V%s%s%V%s", pre, &ctx->notice,
                 ctx->notice.len ? " " : "", poll, &ctx->job_id, post)
        = '\0';

    if (json_object_set_new(obj, "success", json_true()) != 0
        || json_object_set_new(obj, "message", json_string((char *) p)) != 0
        || json_object_set_new(obj, "job_id",
               ngx_http_enconvert_json_str(ctx->job_id.data,
                                           ctx->job_id.len)) != 0
        || json_object_set_new(obj, "batch_id",
               ngx_http_enconvert_json_str(ctx->job_id.data,
                                           ctx->job_id.len)) != 0
        || json_object_set_new(obj, "url_count",
               ctx->website ? json_null() : json_integer(1)) != 0
        || json_object_set_new(obj, "status", json_string("processing"))
           != 0
        || (ctx->website
            && json_object_set_new(obj, "output_format", json_string("zip"))
               != 0))
    {
        json_decref(obj);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_enconvert_send_dump(r, NGX_HTTP_ACCEPTED, obj);
}


/*
 * The API's JSON 429 for requests that nginx's limit_req refused; reached
 * through "error_page 429 = @location" with enconvert_rate_limited there.
 */

ngx_int_t
ngx_http_enconvert_rate_limited(ngx_http_request_t *r)
{
    if (ngx_http_enconvert_add_header(r, (u_char *) "Retry-After",
                                      sizeof("Retry-After") - 1,
                                      (u_char *) "1", 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_enconvert_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                    "rate_limited",
                                    "too many requests for this API key; "
                                    "retry after the Retry-After delay",
                                    NULL);
}


/*
 * The API's JSON shape for the errors nginx itself answers (a body over
 * client_max_body_size, a malformed request line or header, a stored file
 * that is gone); reached through "error_page 400 404 413 ... location"
 * (without "=", so r->err_status keeps the status) with enconvert_error
 * there.
 *
 * A named location is entered from the API's own locations: always JSON.
 * A location reached through a URI serves the server's error_page, the
 * only one that sees what nginx refuses before it chooses a location, and
 * the only kind nginx can enter before it has parsed the request line: it
 * answers JSON for the API's requests and nginx's own page for any other.
 */

ngx_int_t
ngx_http_enconvert_nginx_error(ngx_http_request_t *r)
{
    ngx_str_t                  path;
    ngx_uint_t                 i;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!clcf->named) {
        if (r->err_status < NGX_HTTP_BAD_REQUEST
            || ngx_http_enconvert_for_api(r, &path) != NGX_OK)
        {
            return ngx_http_enconvert_nginx_page(r);
        }

        if (ngx_http_enconvert_metrics_keep_route(r, &path) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /*
     * The answer that failed takes its headers with it: a download whose
     * file is gone kept the worker's Content-Disposition, and the JSON
     * error was saved as the file. The API's answers are not cached.
     */

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        h[i].hash = 0;
    }

    if (ngx_http_enconvert_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (r->err_status) {

    case NGX_HTTP_BAD_REQUEST:
        return ngx_http_enconvert_error(r, NGX_HTTP_BAD_REQUEST,
                                        "bad_request",
                                        "the request is malformed", NULL);

    case NGX_HTTP_REQUEST_HEADER_TOO_LARGE:

        /* "error_page 494 =494": nginx answers it as 400 */

        r->err_status = NGX_HTTP_BAD_REQUEST;

        return ngx_http_enconvert_error(r, NGX_HTTP_BAD_REQUEST,
                                        "bad_request",
                                        "a request header line, or the "
                                        "headers together, are larger than "
                                        "the server accepts", NULL);

    case NGX_HTTP_NOT_FOUND:
        return ngx_http_enconvert_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        "no such resource (a download link "
                                        "may point to a file no longer "
                                        "stored)", NULL);

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return ngx_http_enconvert_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                        "body_too_large",
                                        "the request body is larger than "
                                        "the configured limit", NULL);

    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return ngx_http_enconvert_error(r, NGX_HTTP_REQUEST_URI_TOO_LARGE,
                                        "uri_too_long",
                                        "the request URI is too long", NULL);

    case NGX_HTTP_TOO_MANY_REQUESTS:
        return ngx_http_enconvert_rate_limited(r);

    /* the statuses HTTP has for these; the code of any malformed request */

    case NGX_HTTP_NOT_IMPLEMENTED:
        return ngx_http_enconvert_error(r, NGX_HTTP_NOT_IMPLEMENTED,
                                        "bad_request",
                                        "the request's Transfer-Encoding is "
                                        "not supported; send the body with "
                                        "Content-Length or chunked", NULL);

    case NGX_HTTP_VERSION_NOT_SUPPORTED:
        return ngx_http_enconvert_error(r, NGX_HTTP_VERSION_NOT_SUPPORTED,
                                        "bad_request",
                                        "this HTTP version is not "
                                        "supported; use HTTP/1.1", NULL);

    default:
        return ngx_http_enconvert_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal_error",
                                        "the server could not answer this "
                                        "request; try again later", NULL);
    }
}


/*
 * An error that is not the API's gets nginx's own page, with the server's
 * configuration as if there were no error_page: the one nginx has for
 * what it refuses before it chooses a location.
 */

static ngx_int_t
ngx_http_enconvert_nginx_page(ngx_http_request_t *r)
{
    ngx_http_core_srv_conf_t  *cscf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    r->loc_conf = cscf->ctx->loc_conf;
    ngx_http_update_location_config(r);

    /* no second error_page, even with recursive_error_pages */

    r->error_page = 1;

    return r->err_status >= NGX_HTTP_BAD_REQUEST ? r->err_status
                                                 : NGX_HTTP_NOT_FOUND;
}


/* 405 with the methods the route accepts in "Allow" */

ngx_int_t
ngx_http_enconvert_method_not_allowed(ngx_http_request_t *r,
    const char *allow)
{
    if (ngx_http_enconvert_add_header(r, (u_char *) "Allow",
                                      sizeof("Allow") - 1,
                                      (u_char *) allow, ngx_strlen(allow))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_enconvert_error(r, NGX_HTTP_NOT_ALLOWED,
                                    "method_not_allowed",
                                    "this route does not accept that method",
                                    NULL);
}


ngx_int_t
ngx_http_enconvert_unavailable(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx)
{
    ngx_str_t  body;

    if (ngx_http_enconvert_add_header(r, (u_char *) "Retry-After",
                                      sizeof("Retry-After") - 1,
                                      (u_char *) "1", 1)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx && ctx->op == NGX_HTTP_ENCONVERT_OP_HEALTH) {
        ngx_str_set(&body, "{\"status\":\"unavailable\",\"nginx\":\"ok\","
                           "\"worker\":\"down\",\"database\":\"unknown\"}");

        return ngx_http_enconvert_send_json(r,
                                            NGX_HTTP_SERVICE_UNAVAILABLE,
                                            &body);
    }

    return ngx_http_enconvert_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "backend_unavailable",
                                    "no conversion worker is reachable; "
                                    "retry shortly", NULL);
}


ngx_int_t
ngx_http_enconvert_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_enconvert_send_error(ngx_http_request_t *r,
    ngx_http_enconvert_error_t *err)
{
    json_t  *obj;

    obj = json_object();
    if (obj == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json_object_set_new(obj, "success", json_false()) != 0
        || json_object_set_new(obj, "error", json_string(err->code)) != 0
        || json_object_set_new(obj, "detail",
               ngx_http_enconvert_json_str(err->detail.data,
                                           err->detail.len)) != 0
        || (err->field.len
            && json_object_set_new(obj, "field",
                   ngx_http_enconvert_json_str(err->field.data,
                                               err->field.len)) != 0))
    {
        json_decref(obj);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_enconvert_send_dump(r, err->status, obj);
}


ngx_int_t
ngx_http_enconvert_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *detail, const char *field)
{
    ngx_http_enconvert_error_t  err;

    err.status = status;
    err.code = code;
    err.detail.data = (u_char *) detail;
    err.detail.len = ngx_strlen(detail);

    if (field) {
        err.field.data = (u_char *) field;
        err.field.len = ngx_strlen(field);

    } else {
        ngx_str_null(&err.field);
    }

    return ngx_http_enconvert_send_error(r, &err);
}


/* a JSON string from bytes that may end in a cut UTF-8 sequence */

static json_t *
ngx_http_enconvert_json_str(u_char *p, size_t len)
{
    json_t      *s;
    ngx_uint_t   i;

    for (i = 0; i < 4 && len > 0; i++) {
        s = json_stringn((const char *) p, len);
        if (s != NULL) {
            return s;
        }

        len--;
    }

    return json_string("");
}


static ngx_int_t
ngx_http_enconvert_send_dump(ngx_http_request_t *r, ngx_uint_t status,
    json_t *obj)
{
    char       *s;
    ngx_str_t   body;

    s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);

    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.len = ngx_strlen(s);
    body.data = ngx_pnalloc(r->pool, body.len);

    if (body.data == NULL) {
        free(s);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(body.data, s, body.len);
    free(s);

    return ngx_http_enconvert_send_json(r, status, &body);
}


ngx_int_t
ngx_http_enconvert_add_header(ngx_http_request_t *r, const u_char *key,
    size_t key_len, const u_char *value, size_t value_len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key.data = ngx_pnalloc(r->pool, key_len);
    h->value.data = ngx_pnalloc(r->pool, value_len);

    if (h->key.data == NULL || h->value.data == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_memcpy(h->key.data, key, key_len);
    h->key.len = key_len;
    ngx_memcpy(h->value.data, value, value_len);
    h->value.len = value_len;

    return NGX_OK;
}


/*
 * Answers carry presigned links (bearer credentials) and other accounts'
 * callers may share a proxy with the caller: no cache keeps them, nor a
 * file fetched with a link that expires (headers_out survives the files
 * route's internal redirect).
 */

ngx_int_t
ngx_http_enconvert_no_store(ngx_http_request_t *r)
{
    return ngx_http_enconvert_add_header(r, (u_char *) "Cache-Control",
                                         sizeof("Cache-Control") - 1,
                                         (u_char *) "no-store",
                                         sizeof("no-store") - 1);
}


/* header names: token characters; values: no CR, LF or NUL */

static ngx_int_t
ngx_http_enconvert_valid_token(const u_char *p, size_t len,
    ngx_uint_t value)
{
    size_t  i;

    if (len == 0 || len > 4096) {
        return value && len == 0 ? NGX_OK : NGX_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (value) {
            if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') {
                return NGX_ERROR;
            }

            continue;
        }

        if (!(ngx_http_enconvert_isalnum(p[i]) || p[i] == '-'
              || p[i] == '_' || p[i] == '.'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * enconvert nginx module: the key is judged before the body.
 *
 * The module checks only a key's form; whether it is known is the
 * worker's to say.  A convert request the module refuses after that (a
 * body or header that breaks a rule, a body too large, not JSON) would
 * otherwise answer 400 to a key that does not exist.  So the refusal is
 * kept, the worker is asked about the key ("whoami"), and the refusal is
 * sent only if the key is good; otherwise the worker's answer is (401,
 * or 503 when it cannot tell).  With no worker reachable, or none
 * answering in time, the refusal is sent as it is.
 */


#include "ngx_http_enconvert_module.h"


/*
 * body_read: called from the body handler (which holds the request's
 * reference); otherwise from the content handler, before the body.
 * Returns what the caller returns (NGX_DONE while the worker is asked).
 */

ngx_int_t
ngx_http_enconvert_refuse(ngx_http_request_t *r, ngx_str_t *key,
    ngx_http_enconvert_error_t *err, ngx_uint_t body_read)
{
    ngx_int_t                       rc;
    ngx_str_t                       msg;
    ngx_http_enconvert_ctx_t       *ctx;
    ngx_http_enconvert_error_t     *kept;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    if (!body_read && ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    kept = ngx_palloc(r->pool, sizeof(ngx_http_enconvert_error_t));
    if (kept == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *kept = *err;

    ctx = ngx_http_get_module_ctx(r, ngx_http_enconvert_module);

    if (ctx == NULL) {
        ctx = ngx_http_enconvert_create_ctx(r, NGX_HTTP_ENCONVERT_OP_WHOAMI);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx->op = NGX_HTTP_ENCONVERT_OP_WHOAMI;
    ctx->api_key = *key;
    ctx->sync = 0;
    ctx->idempotent = 1;
    ctx->refusal = kept;

    if (ngx_http_enconvert_build_simple(r, ctx, NULL, &msg) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_enconvert_backend_send(r, ctx, msg.data, msg.len,
                                         elcf->timeout);

    if (rc != NGX_OK) {
        return ngx_http_enconvert_send_error(r, kept);
    }

    if (!body_read) {
        r->main->count++;
    }

    return NGX_DONE;
}


/*
 * The answer once the worker has judged the key (status of its "final"
 * reply), or failed to (status 0: timed out, or its connection lost).
 * NGX_DECLINED: relay the worker's answer.
 */

ngx_int_t
ngx_http_enconvert_refusal_reply(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_uint_t status)
{
    if (status == 0 || (status >= 200 && status < 300)) {
        return ngx_http_enconvert_send_error(r, ctx->refusal);
    }

    return NGX_DECLINED;
}

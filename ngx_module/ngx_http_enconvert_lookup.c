
/*
 * enconvert nginx module: the read-only routes the vendor's clients use
 * (docs/api.md "Routes for the vendor's clients"), answered by the worker
 * for the key's account, and the plain liveness route GET /health.
 *
 *   GET /v1/convert/batch/{id}             op "batch", id: ours or the
 *                                          client's job_id
 *   GET /v1/convert/download/{object_key}  op "download"
 *   GET /v1/whoami, GET /v1/auth/verify    op "whoami", "verify"
 */


#include "ngx_http_enconvert_module.h"


ngx_int_t
ngx_http_enconvert_lookup(ngx_http_request_t *r, ngx_uint_t op,
    ngx_str_t *target)
{
    ngx_str_t                    key;
    ngx_http_enconvert_error_t   err;

    if (ngx_http_enconvert_auth(r, &key, &err) != NGX_OK) {
        return ngx_http_enconvert_send_error(r, &err);
    }

    if (op == NGX_HTTP_ENCONVERT_OP_BATCH
        && ngx_http_enconvert_valid_job_id(target) != NGX_OK)
    {
        return ngx_http_enconvert_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        "no such batch", NULL);
    }

    if (op == NGX_HTTP_ENCONVERT_OP_DOWNLOAD
        && ngx_http_enconvert_valid_object_key(target) != NGX_OK)
    {
        return ngx_http_enconvert_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_object_key",
                                        "the object key contains characters "
                                        "that are not allowed", NULL);
    }

    return ngx_http_enconvert_ask_worker(r, op, &key, target);
}


/* GET /health: nginx and the module answer; nothing else is asked */

ngx_int_t
ngx_http_enconvert_liveness(ngx_http_request_t *r)
{
    ngx_str_t  body;

    ngx_str_set(&body, "{\"status\":\"healthy\"}");

    return ngx_http_enconvert_send_json(r, NGX_HTTP_OK, &body);
}

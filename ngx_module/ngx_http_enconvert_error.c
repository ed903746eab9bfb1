
/*
 * enconvert nginx module: the module's own errors (docs/api.md, "Errors")
 * are built here, in one place; ngx_http_enconvert_reply.c sends them and
 * relays the worker's answers.  Kept apart so the validation code and its
 * fuzz targets (tests/fuzz/module) share it without the rest of the reply
 * path.
 */


#include "ngx_http_enconvert_module.h"


/*
 * Fills *err: the status, the stable code, a detail formatted like
 * ngx_sprintf (at most 512 bytes) and the field's path (at most 256).
 */

void
ngx_http_enconvert_set_error(ngx_http_request_t *r,
    ngx_http_enconvert_error_t *err, ngx_uint_t status, const char *code,
    const char *field, const char *fmt, ...)
{
    u_char   *p, *last;
    size_t    len;
    va_list   args;

    err->status = status;
    err->code = code;
    ngx_str_null(&err->detail);
    ngx_str_null(&err->field);

    p = ngx_pnalloc(r->pool, 512);
    if (p != NULL) {
        va_start(args, fmt);
        last = ngx_vslprintf(p, p + 512, fmt, args);
        va_end(args);

        err->detail.data = p;
        err->detail.len = last - p;
    }

    if (field) {
        len = ngx_min(ngx_strlen(field), 256);

        p = ngx_pnalloc(r->pool, len);
        if (p != NULL) {
            ngx_memcpy(p, field, len);
            err->field.data = p;
            err->field.len = len;
        }
    }
}

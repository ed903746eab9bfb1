
/*
 * enconvert nginx module: presigned download URLs (docs/internals.md).
 *
 *   /v1/files/{object_key}?expires={unix seconds}&signature={hex}
 *   signature = hex(HMAC-SHA256(secret, "GET\n/v1/files/{key}\n{expires}"))
 *
 * A valid request is handed to nginx with an internal redirect to
 * {enconvert_files_location}{object_key}, so nginx serves the file.
 */


#include "ngx_http_enconvert_module.h"

#include <openssl/crypto.h>


#define NGX_HTTP_ENCONVERT_KEY_LEN_MAX  1024


static ngx_int_t ngx_http_enconvert_mac(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *expires, u_char *mac);
static ngx_int_t ngx_http_enconvert_hex_decode(u_char *dst, ngx_str_t *src);


ngx_int_t
ngx_http_enconvert_files(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char                          *p;
    time_t                           expires;
    ngx_str_t                        exp, sig;
    ngx_http_enconvert_main_conf_t  *emcf;

    u_char  want[NGX_HTTP_ENCONVERT_SIGNATURE_LEN];
    u_char  got[NGX_HTTP_ENCONVERT_SIGNATURE_LEN];

    emcf = ngx_http_get_module_main_conf(r, ngx_http_enconvert_module);

    if (emcf->secret.len == 0) {
        return ngx_http_enconvert_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        "downloads are not configured",
                                        NULL);
    }

    if (ngx_http_enconvert_valid_object_key(key) != NGX_OK) {
        return ngx_http_enconvert_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_object_key",
                                        "the object key contains characters "
                                        "that are not allowed", NULL);
    }

    if (ngx_http_arg(r, (u_char *) "expires", sizeof("expires") - 1, &exp)
        != NGX_OK
        || ngx_http_arg(r, (u_char *) "signature", sizeof("signature") - 1,
                        &sig)
           != NGX_OK
        || exp.len == 0 || exp.len > 19
        || sig.len != 64
        || ngx_http_enconvert_hex_decode(got, &sig) != NGX_OK)
    {
        goto invalid;
    }

    for (p = exp.data; p < exp.data + exp.len; p++) {
        if (*p < '0' || *p > '9') {
            goto invalid;
        }
    }

    if (ngx_http_enconvert_mac(r, key, &exp, want) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (CRYPTO_memcmp(want, got, sizeof(got)) != 0) {
        goto invalid;
    }

    expires = ngx_atotm(exp.data, exp.len);

    if (expires == NGX_ERROR || expires <= ngx_time()) {
        return ngx_http_enconvert_error(r, NGX_HTTP_FORBIDDEN, "expired_url",
                                        "this download link has expired; "
                                        "request a fresh one from the "
                                        "status endpoint", NULL);
    }

    return ngx_http_enconvert_redirect(r, key);

invalid:

    return ngx_http_enconvert_error(r, NGX_HTTP_FORBIDDEN,
                                    "invalid_signature",
                                    "the download link is not valid", NULL);
}


/*
 * Writes the hex signature of a link to `key` valid until `expires` at
 * `dst` (2 * NGX_HTTP_ENCONVERT_SIGNATURE_LEN bytes), as the worker signs
 * them; returns the end, or NULL on failure.
 */

u_char *
ngx_http_enconvert_sign(ngx_http_request_t *r, ngx_str_t *key,
    time_t expires, u_char *dst)
{
    ngx_str_t  exp;

    u_char  digits[NGX_TIME_T_LEN];
    u_char  mac[NGX_HTTP_ENCONVERT_SIGNATURE_LEN];

    exp.data = digits;
    exp.len = ngx_sprintf(digits, "%T", expires) - digits;

    if (ngx_http_enconvert_mac(r, key, &exp, mac) != NGX_OK) {
        return NULL;
    }

    return ngx_hex_dump(dst, mac, sizeof(mac));
}


/* HMAC-SHA256(secret, "GET\n/v1/files/{key}\n{expires}") */

static ngx_int_t
ngx_http_enconvert_mac(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *expires, u_char *mac)
{
    u_char                          *p, *msg;
    ngx_http_enconvert_main_conf_t  *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_enconvert_module);

    msg = ngx_pnalloc(r->pool, sizeof("GET\n/v1/files/\n") - 1 + key->len
                               + expires->len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(msg, "GET\n/v1/files/%V\n%V", key, expires);

    return ngx_http_enconvert_hmac_sha256(r->connection->log, &emcf->secret,
                                          msg, p - msg, mac);
}


/*
 * only [A-Za-z0-9._/-], never "..", not absolute, and a file's name with an
 * extension last: nginx answers a folder's key with a redirect to the
 * internal location or a refusal, as HTML
 */

ngx_int_t
ngx_http_enconvert_valid_object_key(ngx_str_t *key)
{
    size_t  i, name, dot;
    u_char  c;

    if (key->len == 0 || key->len > NGX_HTTP_ENCONVERT_KEY_LEN_MAX
        || key->data[0] == '/')
    {
        return NGX_DECLINED;
    }

    name = 0;
    dot = 0;

    for (i = 0; i < key->len; i++) {
        c = key->data[i];

        if (c == '/') {
            name = i + 1;
            dot = 0;

        } else if (c == '.') {
            dot = i;
        }

        if (!(ngx_http_enconvert_isalnum(c) || c == '.' || c == '_'
              || c == '/' || c == '-'))
        {
            return NGX_DECLINED;
        }

        if (c == '.' && i + 1 < key->len && key->data[i + 1] == '.') {
            return NGX_DECLINED;
        }
    }

    if (dot <= name || dot + 1 == key->len) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_enconvert_redirect(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char                         *p;
    ngx_str_t                       uri;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    uri.len = elcf->files_location.len + key->len;
    uri.data = ngx_pnalloc(r->pool, uri.len);

    if (uri.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(uri.data, elcf->files_location.data,
                   elcf->files_location.len);
    ngx_memcpy(p, key->data, key->len);

    /* the files location is not the module's: keep the route to count */

    if (ngx_http_enconvert_metrics_keep_route(r, &r->uri) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a direct_download answers a POST: the file is served as to a GET */

    if (r->method != NGX_HTTP_HEAD) {
        r->method = NGX_HTTP_GET;
        r->method_name = ngx_http_core_get_method;
    }

    return ngx_http_internal_redirect(r, &uri, NULL);
}


static ngx_int_t
ngx_http_enconvert_hex_decode(u_char *dst, ngx_str_t *src)
{
    size_t     i;
    ngx_int_t  hi, lo;

    for (i = 0; i + 1 < src->len; i += 2) {
        hi = ngx_hextoi(&src->data[i], 1);
        lo = ngx_hextoi(&src->data[i + 1], 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) (hi << 4 | lo);
    }

    return NGX_OK;
}

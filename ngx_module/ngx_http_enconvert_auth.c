
/*
 * enconvert nginx module: API key extraction and format check.  The worker
 * checks the key itself against the database.
 */


#include "ngx_http_enconvert_module.h"


static ngx_int_t ngx_http_enconvert_valid_key(ngx_str_t *key);


ngx_int_t
ngx_http_enconvert_auth(ngx_http_request_t *r, ngx_str_t *key,
    ngx_http_enconvert_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_enconvert_presented_key(r, key);

    if (rc == NGX_ERROR) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_UNAUTHORIZED,
            "invalid_api_key", NULL,
            "the Authorization header must be \"Bearer <api key>\"");
        return NGX_DECLINED;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_UNAUTHORIZED,
            "missing_api_key", NULL,
            "send your API key as \"Authorization: Bearer <key>\" "
            "or \"X-API-Key: <key>\"");
        return NGX_DECLINED;
    }

    if (ngx_http_enconvert_valid_key(key) != NGX_OK) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_UNAUTHORIZED,
            "invalid_api_key", NULL, "the API key is not valid");
        return NGX_DECLINED;
    }

    /* a private key (the only kind there is) sent from a browser */

    if (ngx_http_enconvert_find_header(r, "Origin", sizeof("Origin") - 1)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_FORBIDDEN,
            "private_key_in_browser", NULL,
            "private API keys must not be used from a browser");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The key as the client sent it, not yet checked: from
 * "Authorization: Bearer <key>", else from "X-API-Key: <key>".
 * NGX_DECLINED: no key header; NGX_ERROR: an Authorization header that
 * is not a Bearer one.  Also used by $enconvert_api_key_hash.
 */

ngx_int_t
ngx_http_enconvert_presented_key(ngx_http_request_t *r, ngx_str_t *key)
{
    ngx_table_elt_t  *h;

    ngx_str_null(key);

    h = r->headers_in.authorization;

    if (h != NULL) {
        if (h->value.len < sizeof("Bearer ") - 1
            || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                               sizeof("Bearer ") - 1) != 0)
        {
            return NGX_ERROR;
        }

        key->data = h->value.data + sizeof("Bearer ") - 1;
        key->len = h->value.len - (sizeof("Bearer ") - 1);

        while (key->len && key->data[0] == ' ') {
            key->data++;
            key->len--;
        }

        return NGX_OK;
    }

    h = ngx_http_enconvert_find_header(r, "X-API-Key",
                                       sizeof("X-API-Key") - 1);
    if (h == NULL) {
        return NGX_DECLINED;
    }

    *key = h->value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_valid_key(ngx_str_t *key)
{
    size_t  i;

    if (key->len < NGX_HTTP_ENCONVERT_KEY_MIN
        || key->len > NGX_HTTP_ENCONVERT_KEY_MAX
        || ngx_strncmp(key->data, "sk_live_", sizeof("sk_live_") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    for (i = sizeof("sk_live_") - 1; i < key->len; i++) {
        if (!ngx_http_enconvert_isalnum(key->data[i])) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_enconvert_find_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
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

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}

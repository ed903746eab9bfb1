
/*
 * enconvert nginx module: variables.
 *
 *   $enconvert_api_key_hash  lowercase hex SHA-256 of the API key the
 *                            client presented (the value the worker's
 *                            database stores); empty without a key.
 *
 * It is computed from the request headers alone, so it is available in
 * every phase, e.g. for "limit_req_zone $enconvert_api_key_hash ...".
 */


#include "ngx_http_enconvert_module.h"

#include <openssl/sha.h>


static ngx_int_t ngx_http_enconvert_key_hash_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_enconvert_vars[] = {

    { ngx_string("enconvert_api_key_hash"), NULL,
      ngx_http_enconvert_key_hash_variable, 0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_enconvert_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_enconvert_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_key_hash_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char     *p;
    ngx_str_t   key;

    u_char  md[SHA256_DIGEST_LENGTH];

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    if (ngx_http_enconvert_presented_key(r, &key) != NGX_OK
        || key.len == 0)
    {
        v->len = 0;
        v->data = (u_char *) "";
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, 2 * SHA256_DIGEST_LENGTH);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_enconvert_sha256(r->connection->log, key.data, key.len, md)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v->len = ngx_hex_dump(p, md, SHA256_DIGEST_LENGTH) - p;
    v->data = p;

    return NGX_OK;
}


/*
 * enconvert nginx module: SHA-256 and HMAC-SHA256 with the algorithms
 * fetched once per process.
 *
 * OpenSSL 3's one-shot SHA256() and HMAC() look their algorithms up by
 * name on every call (a locked table lookup, a context allocated and
 * freed): on a status answer from the zone that was a seventh of nginx's
 * CPU (docs/benchmarks.md "Status polling").  Here the digest is fetched
 * once, and the HMAC context is keyed once with the signing secret and
 * re-initialised with the same key for every signature.
 */


#include "ngx_http_enconvert_module.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>


static EVP_MD      *ngx_http_enconvert_sha256_md;
static EVP_MAC_CTX *ngx_http_enconvert_hmac_ctx;
static ngx_str_t    ngx_http_enconvert_hmac_key;   /* a copy: keyed with */


static EVP_MD *ngx_http_enconvert_sha256_fetch(void);
static void ngx_http_enconvert_hmac_forget(void);
static EVP_MAC_CTX *ngx_http_enconvert_hmac_keyed(ngx_str_t *secret);


static EVP_MD *
ngx_http_enconvert_sha256_fetch(void)
{
    if (ngx_http_enconvert_sha256_md == NULL) {
        ngx_http_enconvert_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    }

    return ngx_http_enconvert_sha256_md;
}


ngx_int_t
ngx_http_enconvert_sha256(ngx_log_t *log, u_char *data, size_t len,
    u_char *md)
{
    EVP_MD  *sha256;

    sha256 = ngx_http_enconvert_sha256_fetch();

    if (sha256 == NULL || EVP_Digest(data, len, md, NULL, sha256, NULL) != 1)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0, "enconvert: SHA-256 failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_enconvert_hmac_forget(void)
{
    EVP_MAC_CTX_free(ngx_http_enconvert_hmac_ctx);
    ngx_http_enconvert_hmac_ctx = NULL;

    if (ngx_http_enconvert_hmac_key.data != NULL) {
        OPENSSL_cleanse(ngx_http_enconvert_hmac_key.data,
                        ngx_http_enconvert_hmac_key.len + 1);
        ngx_free(ngx_http_enconvert_hmac_key.data);
        ngx_str_null(&ngx_http_enconvert_hmac_key);
    }
}


/* a context keyed with `secret`, made again when the secret changed */

static EVP_MAC_CTX *
ngx_http_enconvert_hmac_keyed(ngx_str_t *secret)
{
    EVP_MAC     *hmac;
    OSSL_PARAM   params[2];

    if (ngx_http_enconvert_hmac_ctx != NULL
        && ngx_http_enconvert_hmac_key.len == secret->len
        && ngx_memcmp(ngx_http_enconvert_hmac_key.data, secret->data,
                      secret->len)
           == 0)
    {
        /* the same key: a NULL key re-initialises with the one set */

        if (EVP_MAC_init(ngx_http_enconvert_hmac_ctx, NULL, 0, NULL) != 1) {
            return NULL;
        }

        return ngx_http_enconvert_hmac_ctx;
    }

    ngx_http_enconvert_hmac_forget();

    ngx_http_enconvert_hmac_key.data = ngx_alloc(secret->len + 1,
                                                 ngx_cycle->log);
    if (ngx_http_enconvert_hmac_key.data == NULL) {
        return NULL;
    }

    ngx_memcpy(ngx_http_enconvert_hmac_key.data, secret->data, secret->len);
    ngx_http_enconvert_hmac_key.len = secret->len;

    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (hmac == NULL) {
        return NULL;
    }

    ngx_http_enconvert_hmac_ctx = EVP_MAC_CTX_new(hmac);
    EVP_MAC_free(hmac);

    if (ngx_http_enconvert_hmac_ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ngx_http_enconvert_hmac_ctx, secret->data, secret->len,
                     params)
        != 1)
    {
        ngx_http_enconvert_hmac_forget();
        return NULL;
    }

    return ngx_http_enconvert_hmac_ctx;
}


ngx_int_t
ngx_http_enconvert_hmac_sha256(ngx_log_t *log, ngx_str_t *secret,
    u_char *msg, size_t len, u_char *mac)
{
    size_t        maclen;
    EVP_MAC_CTX  *ctx;

    ctx = ngx_http_enconvert_hmac_keyed(secret);

    maclen = 0;

    if (ctx == NULL
        || EVP_MAC_update(ctx, msg, len) != 1
        || EVP_MAC_final(ctx, mac, &maclen, NGX_HTTP_ENCONVERT_SIGNATURE_LEN)
           != 1
        || maclen != NGX_HTTP_ENCONVERT_SIGNATURE_LEN)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0, "enconvert: HMAC-SHA256 failed");

        /* a context left half-used is not trusted again */
        ngx_http_enconvert_hmac_forget();

        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_enconvert_digest_exit(void)
{
    ngx_http_enconvert_hmac_forget();
    EVP_MD_free(ngx_http_enconvert_sha256_md);
    ngx_http_enconvert_sha256_md = NULL;
}

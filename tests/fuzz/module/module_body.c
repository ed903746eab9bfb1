
/*
 * Fuzzes the nginx module's convert request body handling
 * (ngx_http_enconvert_build_convert(): JSON parsing, the field rules of
 * ngx_http_enconvert_fields.c, the URL and e-mail rules of
 * ngx_http_enconvert_url.c, the Idempotency-Key header and the msgpack
 * message for the worker).
 *
 * Input: one flags byte (bit 0: a screenshot route instead of a PDF one;
 * bit 1: an Idempotency-Key header follows, one length byte and its
 * value; bit 2: the website capture route, website-to-pdf or
 * website-to-screenshot, with its crawl fields and patterns), then the
 * request body.
 *
 * Oracles besides the sanitizers: a refused body has a 400 status, a code
 * and a detail; an accepted body gives a message the worker's own decoder
 * (worker/src/intake/wire.cpp) accepts too.
 */


#include "ngx_shim.h"
#include "ngx_http_enconvert_module.h"

#include <stdio.h>
#include <stdlib.h>


#define API_KEY  "sk_live_A1b2C3d4E5A1b2C3d4E5A1b2C3d4E5A1b2C3d4E5"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *body, *idem;
    size_t                       idem_len;
    ngx_int_t                    rc;
    ngx_str_t                    endpoint, out;
    ngx_http_request_t          *r;
    ngx_http_enconvert_ctx_t     ctx;
    ngx_http_enconvert_error_t   err;
    char                         why[256];

    if (size < 1) {
        return 0;
    }

    switch (data[0] & 5) {

    case 1:
        ngx_str_set(&endpoint, "url-to-screenshot");
        break;

    case 4:
        ngx_str_set(&endpoint, "website-to-pdf");
        break;

    case 5:
        ngx_str_set(&endpoint, "website-to-screenshot");
        break;

    default:
        ngx_str_set(&endpoint, "url-to-pdf");
    }

    idem = NULL;
    idem_len = 0;

    if (data[0] & 2) {
        if (size < 2) {
            return 0;
        }

        idem_len = ngx_min((size_t) data[1], size - 2);
        idem = (u_char *) data + 2;
        data += 2 + idem_len;
        size -= 2 + idem_len;

    } else {
        data++;
        size--;
    }

    /* a buffer of its own, exactly as long as the body */

    body = malloc(size ? size : 1);
    if (body == NULL) {
        return 0;
    }

    ngx_memcpy(body, data, size);

    r = ngx_shim_request(idem, idem_len);

    ngx_memzero(&ctx, sizeof(ngx_http_enconvert_ctx_t));
    ngx_str_set(&ctx.api_key, API_KEY);
    ngx_memzero(&err, sizeof(ngx_http_enconvert_error_t));

    rc = ngx_http_enconvert_build_convert(r, &ctx, &endpoint, body, size,
                                          &out, &err);

    switch (rc) {

    case NGX_OK:
        if (!enconvert_fuzz_worker_accepts(out.data, out.len, why,
                                           sizeof(why)))
        {
            fprintf(stderr, "the worker refuses what the module sent: %s\n",
                    why);
            abort();
        }

        break;

    case NGX_DECLINED:
        if (err.status != NGX_HTTP_BAD_REQUEST || err.code == NULL
            || err.detail.len == 0)
        {
            fprintf(stderr, "a refusal without status, code or detail\n");
            abort();
        }

        break;

    default:
        /* NGX_ERROR is for a failed allocation only */
        fprintf(stderr, "build_convert returned %ld\n", (long) rc);
        abort();
    }

    free(body);
    ngx_shim_free_all();

    return 0;
}


/*
 * Fuzzes the nginx module's URL and e-mail rules
 * (ngx_http_enconvert_url.c) directly, on any UTF-8 string.
 *
 * Input: one selector byte (0: a URL, 1: an https:// URL as for a
 * callback, 2: an e-mail address; taken modulo 3), then the string.
 *
 * Oracles besides the sanitizers: a refused value has a problem text; an
 * accepted URL (after its host is converted to ASCII) is at most 2048
 * bytes, starts with its scheme, and has no space or control character.
 */


#include "ngx_shim.h"
#include "ngx_http_enconvert_module.h"

#include <stdio.h>
#include <stdlib.h>


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               i, len;
    json_t              *s;
    ngx_int_t            rc;
    ngx_uint_t           kind;
    const char          *problem, *p;
    ngx_http_request_t  *r;

    if (size < 1) {
        return 0;
    }

    kind = data[0] % 3;

    /* the body parser hands the rules valid UTF-8 only */

    s = json_stringn((const char *) data + 1, size - 1);
    if (s == NULL) {
        return 0;
    }

    r = ngx_shim_request(NULL, 0);
    problem = NULL;

    if (kind == 2) {
        rc = ngx_http_enconvert_check_email(r, s, &problem);

    } else {
        rc = ngx_http_enconvert_check_url(r, s, kind, &problem);
    }

    if (rc == NGX_DECLINED && problem == NULL) {
        fprintf(stderr, "refused without a problem text\n");
        abort();
    }

    if (rc == NGX_OK && kind != 2) {
        p = json_string_value(s);
        len = json_string_length(s);

        if (len > NGX_HTTP_ENCONVERT_URL_MAX
            || (ngx_strncasecmp((u_char *) p, (u_char *) "https://", 8) != 0
                && (kind == 1
                    || ngx_strncasecmp((u_char *) p, (u_char *) "http://", 7)
                       != 0)))
        {
            fprintf(stderr, "accepted a bad URL: %.*s\n", (int) len, p);
            abort();
        }

        for (i = 0; i < len; i++) {
            if ((u_char) p[i] <= 0x20 || p[i] == 0x7f) {
                fprintf(stderr, "accepted a URL with a control character\n");
                abort();
            }
        }
    }

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        fprintf(stderr, "check returned %ld\n", (long) rc);
        abort();
    }

    json_decref(s);
    ngx_shim_free_all();

    return 0;
}


/*
 * enconvert nginx module: URL and e-mail address rules
 * (docs/validation.md).  Both functions check a JSON string in place and
 * may rewrite it: a non-ASCII host or mail domain is converted to its
 * ASCII (punycode) form with libidn2, and the converted value is what the
 * worker receives.  The address policy after DNS lives in the worker.
 */


#include "ngx_http_enconvert_module.h"

#include <idn2.h>


#define NGX_HTTP_ENCONVERT_HOST_MAX     253
#define NGX_HTTP_ENCONVERT_LABEL_MAX    63
#define NGX_HTTP_ENCONVERT_LOCAL_MAX    64
#define NGX_HTTP_ENCONVERT_DOMAIN_MAX   255
#define NGX_HTTP_ENCONVERT_EMAIL_MAX    254


static ngx_int_t ngx_http_enconvert_bad_chars(u_char *p, size_t len);
static ngx_int_t ngx_http_enconvert_idn(ngx_http_request_t *r,
    u_char *host, size_t len, ngx_str_t *out);
static ngx_int_t ngx_http_enconvert_ascii(u_char *p, size_t len);
static const char *ngx_http_enconvert_host_problem(u_char *host,
    size_t len, ngx_uint_t mail);
static ngx_int_t ngx_http_enconvert_replace(ngx_http_request_t *r,
    json_t *s, size_t start, size_t end, ngx_str_t *with, size_t max);


#define ngx_http_enconvert_isxdigit(c)                                        \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'f')                 \
     || ((c) >= 'A' && (c) <= 'F'))

#define ngx_http_enconvert_atext(c)                                           \
    (ngx_http_enconvert_isalnum(c) || ngx_strchr("!#$%&'*+-/=?^_`{|}~", c))


/*
 * NGX_OK: a valid absolute http(s) URL (its host possibly converted);
 * NGX_DECLINED: *problem says what is wrong; NGX_ERROR: no memory.
 */

ngx_int_t
ngx_http_enconvert_check_url(ngx_http_request_t *r, json_t *s,
    ngx_uint_t https_only, const char **problem)
{
    u_char      *p, *last, *auth, *end, *host, *host_end, *q;
    size_t       len;
    ngx_int_t    rc;
    ngx_str_t    ascii;
    ngx_uint_t   port;

    p = (u_char *) json_string_value(s);
    len = json_string_length(s);
    last = p + len;

    if (len == 0) {
        *problem = "must not be empty";
        return NGX_DECLINED;
    }

    if (len > NGX_HTTP_ENCONVERT_URL_MAX) {
        *problem = "must be at most 2048 bytes long";
        return NGX_DECLINED;
    }

    if (ngx_http_enconvert_bad_chars(p, len) != NGX_OK) {
        *problem = "must not contain spaces or control characters";
        return NGX_DECLINED;
    }

    if (len > sizeof("https://") - 1
        && ngx_strncasecmp(p, (u_char *) "https://", sizeof("https://") - 1)
           == 0)
    {
        auth = p + sizeof("https://") - 1;

    } else if (!https_only
               && len > sizeof("http://") - 1
               && ngx_strncasecmp(p, (u_char *) "http://",
                                  sizeof("http://") - 1) == 0)
    {
        auth = p + sizeof("http://") - 1;

    } else {
        *problem = https_only ? "must be an absolute https:// URL"
                              : "scheme must be http or https";
        return NGX_DECLINED;
    }

    for (end = auth; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }
    }

    for (q = auth; q < end; q++) {
        if (*q == '@') {
            *problem = "must not contain user information (user@ or "
                       "user:password@)";
            return NGX_DECLINED;
        }
    }

    host = auth;

    if (host < end && *host == '[') {
        for (q = host + 1; q < end && *q != ']'; q++) {
            if (!(ngx_http_enconvert_isxdigit(*q) || *q == ':' || *q == '.')) {
                *problem = "has an invalid IPv6 host";
                return NGX_DECLINED;
            }
        }

        if (q == end || q == host + 1) {
            *problem = "has an invalid IPv6 host";
            return NGX_DECLINED;
        }

        host_end = ++q;

    } else {
        for (q = host; q < end && *q != ':'; q++) { /* void */ }

        host_end = q;
    }

    if (host_end == host) {
        *problem = "must name a host";
        return NGX_DECLINED;
    }

    if (q < end) {
        if (*q != ':' || q + 1 == end || end - q - 1 > 5) {
            *problem = "has an invalid port";
            return NGX_DECLINED;
        }

        port = 0;

        for (q++; q < end; q++) {
            if (*q < '0' || *q > '9') {
                *problem = "has an invalid port";
                return NGX_DECLINED;
            }

            port = port * 10 + (*q - '0');
        }

        if (port == 0 || port > 65535) {
            *problem = "has an invalid port (1..65535)";
            return NGX_DECLINED;
        }
    }

    if (*host == '[') {
        return NGX_OK;
    }

    if (ngx_http_enconvert_ascii(host, host_end - host) == NGX_OK) {
        *problem = ngx_http_enconvert_host_problem(host, host_end - host, 0);
        return *problem ? NGX_DECLINED : NGX_OK;
    }

    rc = ngx_http_enconvert_idn(r, host, host_end - host, &ascii);

    if (rc != NGX_OK) {
        *problem = "has an invalid internationalized host name";
        return rc;
    }

    *problem = ngx_http_enconvert_host_problem(ascii.data, ascii.len, 0);
    if (*problem) {
        return NGX_DECLINED;
    }

    rc = ngx_http_enconvert_replace(r, s, host - p, host_end - p, &ascii,
                                    NGX_HTTP_ENCONVERT_URL_MAX);

    if (rc == NGX_DECLINED) {
        *problem = "must be at most 2048 bytes long (with its host name "
                   "in ASCII form)";
    }

    return rc;
}


/*
 * One plain address, local@domain: RFC 5321 limits (local part 64,
 * domain 255, whole address 254 bytes), a dot-atom local part, a domain
 * of at least two sane labels.  No display name, angle brackets, quotes,
 * spaces, CR or LF.
 */

ngx_int_t
ngx_http_enconvert_check_email(ngx_http_request_t *r, json_t *s,
    const char **problem)
{
    u_char      *p, *last, *at, *q, *domain;
    size_t       len;
    ngx_int_t    rc;
    ngx_str_t    ascii;
    ngx_uint_t   ats;

    p = (u_char *) json_string_value(s);
    len = json_string_length(s);
    last = p + len;

    if (ngx_strlchr(p, last, '<') || ngx_strlchr(p, last, '>')
        || ngx_strlchr(p, last, '"'))
    {
        goto plain;
    }

    at = NULL;
    ats = 0;

    for (q = p; q < last; q++) {
        if (*q == '\r' || *q == '\n') {
            *problem = "must not contain line breaks";
            return NGX_DECLINED;
        }

        if (*q <= 0x20 || *q == 0x7f) {
            *problem = "must not contain spaces or control characters";
            return NGX_DECLINED;
        }

        if (*q == '(' || *q == ')' || *q == ',' || *q == ';' || *q == ':'
            || *q == '\\' || *q == '[' || *q == ']')
        {
            goto plain;
        }

        if (*q == '@') {
            ats++;
            at = q;
        }
    }

    if (ats != 1) {
        *problem = "must contain exactly one \"@\"";
        return NGX_DECLINED;
    }

    if (at == p || at - p > NGX_HTTP_ENCONVERT_LOCAL_MAX) {
        *problem = "must have a local part (before \"@\") of 1 to 64 bytes";
        return NGX_DECLINED;
    }

    if (*p == '.' || at[-1] == '.') {
        goto local;
    }

    for (q = p; q < at; q++) {
        if (*q == '.') {
            if (q[1] == '.') {
                goto local;
            }

            continue;
        }

        if (!ngx_http_enconvert_atext(*q)) {
            goto local;
        }
    }

    domain = at + 1;

    if (domain == last) {
        *problem = "must name a domain after \"@\"";
        return NGX_DECLINED;
    }

    if (ngx_http_enconvert_ascii(domain, last - domain) == NGX_OK) {
        ascii.data = domain;
        ascii.len = last - domain;

    } else {
        rc = ngx_http_enconvert_idn(r, domain, last - domain, &ascii);

        if (rc != NGX_OK) {
            *problem = "has an invalid internationalized domain name";
            return rc;
        }
    }

    if (ascii.len > NGX_HTTP_ENCONVERT_DOMAIN_MAX) {
        *problem = "must have a domain of at most 255 bytes";
        return NGX_DECLINED;
    }

    *problem = ngx_http_enconvert_host_problem(ascii.data, ascii.len, 1);
    if (*problem) {
        return NGX_DECLINED;
    }

    if (ascii.data == domain) {
        if (len > NGX_HTTP_ENCONVERT_EMAIL_MAX) {
            goto long_address;
        }

        return NGX_OK;
    }

    rc = ngx_http_enconvert_replace(r, s, domain - p, len, &ascii,
                                    NGX_HTTP_ENCONVERT_EMAIL_MAX);
    if (rc == NGX_DECLINED) {
        goto long_address;
    }

    return rc;

plain:

    *problem = "must be one plain address such as user@example.com, "
               "without a display name, angle brackets, quotes or a list";
    return NGX_DECLINED;

local:

    *problem = "has an invalid local part (before \"@\"): use letters, "
               "digits and !#$%&'*+-/=?^_`{|}~ with single dots between "
               "them";
    return NGX_DECLINED;

long_address:

    *problem = "must be at most 254 bytes long";
    return NGX_DECLINED;
}


/*
 * Whitespace and control characters, ASCII and Unicode (C1 controls,
 * no-break and typographic spaces, zero-width and direction marks, line
 * and paragraph separators, the BOM).  The input is valid UTF-8: jansson
 * checked it.
 */

static ngx_int_t
ngx_http_enconvert_bad_chars(u_char *p, size_t len)
{
    u_char    *last;
    uint32_t   c;

    last = p + len;

    while (p < last) {

        if (*p < 0x80) {
            if (*p <= 0x20 || *p == 0x7f) {
                return NGX_DECLINED;
            }

            p++;
            continue;
        }

        c = ngx_utf8_decode(&p, last - p);

        if (c > 0x10ffff
            || (c >= 0x80 && c <= 0xa0)
            || c == 0x1680
            || (c >= 0x2000 && c <= 0x200f)
            || (c >= 0x2028 && c <= 0x202f)
            || (c >= 0x205f && c <= 0x206f)
            || c == 0x3000
            || c == 0xfeff)
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_ascii(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * UTF-8 host name -> ASCII (punycode) host name in r->pool: IDNA2008 with
 * UTS #46 non-transitional mapping (NFC, case folding, full-width dots).
 * NGX_DECLINED: not a valid internationalized domain name.
 */

static ngx_int_t
ngx_http_enconvert_idn(ngx_http_request_t *r, u_char *host, size_t len,
    ngx_str_t *out)
{
    int      rc;
    char    *ascii;
    u_char  *z;

    z = ngx_pnalloc(r->pool, len + 1);
    if (z == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(z, host, len);
    z[len] = '\0';

    ascii = NULL;

    rc = idn2_to_ascii_8z((const char *) z, &ascii,
                          IDN2_NFC_INPUT|IDN2_NONTRANSITIONAL);

    if (rc != IDN2_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "enconvert: IDN \"%s\" rejected: %s",
                       z, idn2_strerror(rc));
        return (rc == IDN2_MALLOC) ? NGX_ERROR : NGX_DECLINED;
    }

    out->len = ngx_strlen(ascii);
    out->data = ngx_pnalloc(r->pool, out->len);

    if (out->data == NULL) {
        idn2_free(ascii);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, ascii, out->len);
    idn2_free(ascii);

    return NGX_OK;
}


/*
 * An ASCII host name: labels of 1..63 letters, digits, '-' (and '_' in
 * URLs, where some hosts use it), no '-' at either end of a label,
 * at most 253 bytes (a final dot allowed in URLs).  Mail domains need at
 * least two labels.
 */

static const char *
ngx_http_enconvert_host_problem(u_char *host, size_t len, ngx_uint_t mail)
{
    u_char      *p, *last, *label;
    ngx_uint_t   labels;

    if (!mail && len > 1 && host[len - 1] == '.') {
        len--;
    }

    if (len > NGX_HTTP_ENCONVERT_HOST_MAX) {
        return "has a host name longer than 253 bytes";
    }

    last = host + len;
    label = host;
    labels = 0;

    for (p = host; p <= last; p++) {

        if (p < last && *p != '.') {
            if (!(ngx_http_enconvert_isalnum(*p) || *p == '-'
                  || (*p == '_' && !mail)))
            {
                return mail ? "has an invalid domain (letters, digits, "
                              "'-' and dots only)"
                            : "has an invalid host name";
            }

            continue;
        }

        if (p == label || p - label > NGX_HTTP_ENCONVERT_LABEL_MAX
            || *label == '-' || p[-1] == '-')
        {
            return mail ? "has an invalid domain (each label 1 to 63 "
                          "characters, not starting or ending with '-')"
                        : "has an invalid host name (each label 1 to 63 "
                          "characters, not starting or ending with '-')";
        }

        labels++;
        label = p + 1;
    }

    if (mail && labels < 2) {
        return "must have a domain with at least one dot, such as "
               "example.com";
    }

    return NULL;
}


/* s[start..end) := with; NGX_DECLINED when the result is over max bytes */

static ngx_int_t
ngx_http_enconvert_replace(ngx_http_request_t *r, json_t *s, size_t start,
    size_t end, ngx_str_t *with, size_t max)
{
    u_char  *p, *buf;
    size_t   len, n;

    p = (u_char *) json_string_value(s);
    len = json_string_length(s);

    n = len - (end - start) + with->len;

    if (n > max) {
        return NGX_DECLINED;
    }

    buf = ngx_pnalloc(r->pool, n);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(buf, p, start);
    ngx_memcpy(buf + start, with->data, with->len);
    ngx_memcpy(buf + start + with->len, p + end, len - end);

    /* the old bytes (p) are freed here; buf is used from now on */

    if (json_string_setn(s, (const char *) buf, n) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

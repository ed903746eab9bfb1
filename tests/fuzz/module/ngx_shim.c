
/*
 * See ngx_shim.h.  Functions the validation code references but the fuzz
 * targets never reach abort(), so reaching one shows at once.
 *
 * nginx-dev ships nginx's headers, not its core sources, so the string
 * functions the module calls are written here afresh: the same contracts
 * (output bounded by "last", no terminating NUL, nginx's format letters),
 * for the formats the module uses.  A format letter not handled here
 * aborts, so the fuzz targets show when the module starts using one.
 */


#include "ngx_shim.h"
#include "ngx_http_enconvert_module.h"

#include <stdio.h>
#include <stdlib.h>


typedef struct ngx_shim_alloc_s  ngx_shim_alloc_t;

struct ngx_shim_alloc_s {
    ngx_shim_alloc_t  *next;
};


ngx_module_t  ngx_http_core_module;         /* ctx_index 0 */
ngx_module_t  ngx_http_enconvert_module;    /* ctx_index 0 */

static ngx_shim_alloc_t  *ngx_shim_allocs;
static ngx_pool_t         ngx_shim_pool;


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    u_char            *p;
    ngx_shim_alloc_t  *a;

    /* the header keeps the payload 16-byte aligned, as malloc() does */

    p = malloc(16 + size);
    if (p == NULL) {
        return NULL;
    }

    a = (ngx_shim_alloc_t *) p;
    a->next = ngx_shim_allocs;
    ngx_shim_allocs = a;

    return p + 16;
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_palloc(pool, size);
    if (p != NULL) {
        ngx_memzero(p, size);
    }

    return p;
}


void
ngx_shim_free_all(void)
{
    ngx_shim_alloc_t  *a, *next;

    for (a = ngx_shim_allocs; a; a = next) {
        next = a->next;
        free(a);
    }

    ngx_shim_allocs = NULL;
}


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}


ngx_int_t
ngx_connection_local_sockaddr(ngx_connection_t *c, ngx_str_t *s,
    ngx_uint_t port)
{
    return NGX_OK;      /* set by ngx_shim_request() */
}


in_port_t
ngx_inet_get_port(struct sockaddr *sa)
{
    return ntohs(((struct sockaddr_in *) sa)->sin_port);
}


size_t
ngx_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, ngx_uint_t port)
{
    abort();
}


void *
ngx_hash_find_combined(ngx_hash_combined_t *hash, ngx_uint_t key,
    u_char *name, size_t len)
{
    abort();
}


ngx_uint_t
ngx_hash_strlow(u_char *dst, u_char *src, size_t n)
{
    abort();
}


uint64_t
ngx_http_enconvert_backend_next_id(void)
{
    static uint64_t  id;

    return ++id;
}


ngx_http_request_t *
ngx_shim_request(u_char *idem, size_t idem_len)
{
    static ngx_log_t                  log;
    static ngx_table_elt_t            header;
    static ngx_connection_t           c;
    static ngx_http_request_t         r;
    static struct sockaddr_in         sin;
    static ngx_http_core_srv_conf_t   cscf;
    static void                      *srv_conf[1], *loc_conf[1];
    static ngx_http_enconvert_loc_conf_t  elcf;

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&c, sizeof(ngx_connection_t));

    sin.sin_family = AF_INET;
    sin.sin_port = htons(8080);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    log.log_level = NGX_LOG_ERR;    /* no debug logging */
    c.log = &log;
    c.local_sockaddr = (struct sockaddr *) &sin;
    c.local_socklen = sizeof(struct sockaddr_in);

    ngx_str_set(&cscf.server_name, "localhost");
    srv_conf[0] = &cscf;
    elcf.max_urls = 100;                /* enconvert_max_urls' default */
    loc_conf[0] = &elcf;

    r.connection = &c;
    r.pool = &ngx_shim_pool;
    r.srv_conf = srv_conf;
    r.loc_conf = loc_conf;

    r.headers_in.headers.part.elts = &header;
    r.headers_in.headers.part.nelts = 0;
    r.headers_in.headers.size = sizeof(ngx_table_elt_t);
    r.headers_in.headers.nalloc = 1;
    r.headers_in.headers.last = &r.headers_in.headers.part;

    if (idem) {
        header.hash = 1;
        ngx_str_set(&header.key, "Idempotency-Key");
        header.value.data = idem;
        header.value.len = idem_len;
        r.headers_in.headers.part.nelts = 1;
    }

    return &r;
}


static u_char *
ngx_shim_put(u_char *buf, u_char *last, const char *s, size_t len)
{
    len = ngx_min(len, (size_t) (last - buf));

    return ngx_cpymem(buf, s, len);
}


u_char *
ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    int          n, precision;
    char         tmp[64];
    u_char      *p;
    ngx_str_t   *v;
    ngx_uint_t   unsigned_;

    while (*fmt && buf < last) {

        if (*fmt != '%') {
            *buf++ = *fmt++;
            continue;
        }

        fmt++;
        unsigned_ = 0;
        precision = -1;

        if (*fmt == '.') {
            for (fmt++, precision = 0; *fmt >= '0' && *fmt <= '9'; fmt++) {
                precision = precision * 10 + (*fmt - '0');
            }
        }

        if (*fmt == 'u') {
            unsigned_ = 1;
            fmt++;
        }

        switch (*fmt++) {

        case 's':
            p = va_arg(args, u_char *);
            buf = ngx_shim_put(buf, last, (char *) p, ngx_strlen(p));
            continue;

        case 'V':
            v = va_arg(args, ngx_str_t *);
            buf = ngx_shim_put(buf, last, (char *) v->data, v->len);
            continue;

        case 'd':
            n = unsigned_ ? snprintf(tmp, sizeof(tmp), "%u",
                                     va_arg(args, unsigned int))
                          : snprintf(tmp, sizeof(tmp), "%d",
                                     va_arg(args, int));
            break;

        case 'i':
            n = unsigned_ ? snprintf(tmp, sizeof(tmp), "%lu",
                                     (unsigned long) va_arg(args, ngx_uint_t))
                          : snprintf(tmp, sizeof(tmp), "%ld",
                                     (long) va_arg(args, ngx_int_t));
            break;

        case 'z':
            n = unsigned_ ? snprintf(tmp, sizeof(tmp), "%zu",
                                     va_arg(args, size_t))
                          : snprintf(tmp, sizeof(tmp), "%zd",
                                     va_arg(args, ssize_t));
            break;

        case 'L':
            n = unsigned_ ? snprintf(tmp, sizeof(tmp), "%llu",
                                     (unsigned long long)
                                         va_arg(args, uint64_t))
                          : snprintf(tmp, sizeof(tmp), "%lld",
                                     (long long) va_arg(args, int64_t));
            break;

        case 'f':
            {
            double  d = va_arg(args, double);

            /* nginx's %f goes through an int64_t: larger is undefined */

            if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) {
                fprintf(stderr, "ngx_vslprintf: %%f of %g\n", d);
                abort();
            }

            n = snprintf(tmp, sizeof(tmp), "%.*f",
                         precision < 0 ? 0 : precision, d);
            }
            break;

        case '%':
            tmp[0] = '%';
            n = 1;
            break;

        default:
            fprintf(stderr, "ngx_vslprintf: format \"%s\" not in the shim\n",
                    fmt - 1);
            abort();
        }

        buf = ngx_shim_put(buf, last, tmp, (size_t) n);
    }

    return buf;
}


u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, (void *) -1, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    for ( /* void */ ; n; n--, s1++, s2++) {
        c1 = (*s1 >= 'A' && *s1 <= 'Z') ? *s1 | 0x20 : *s1;
        c2 = (*s2 >= 'A' && *s2 <= 'Z') ? *s2 | 0x20 : *s2;

        if (c1 != c2) {
            return c1 - c2;
        }

        if (c1 == 0) {
            return 0;
        }
    }

    return 0;
}


ngx_int_t
ngx_strcasecmp(u_char *s1, u_char *s2)
{
    return ngx_strncasecmp(s1, s2, (size_t) -1);
}


/* As nginx's: decimal digits only; NGX_ERROR when empty, not a digit or
 * past NGX_MAX_INT_T_VALUE. */

ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    ngx_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = NGX_MAX_INT_T_VALUE / 10;
    cutlim = NGX_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return NGX_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


/*
 * One UTF-8 character at *p (at most n bytes): its code point, and *p
 * moved past it; 0xffffffff for an invalid sequence, 0xfffffffe for one
 * cut short by n (then *p is not moved).
 */

uint32_t
ngx_utf8_decode(u_char **p, size_t n)
{
    size_t    more, i;
    uint32_t  u, least;
    u_char   *s;

    s = *p;

    if (*s < 0x80) {
        (*p)++;
        return *s;
    }

    if (*s >= 0xf0 && *s < 0xf8) {
        u = *s & 0x07; more = 3; least = 0x10000;

    } else if (*s >= 0xe0) {
        u = *s & 0x0f; more = 2; least = 0x800;

    } else if (*s >= 0xc2) {
        u = *s & 0x1f; more = 1; least = 0x80;

    } else {
        (*p)++;
        return 0xffffffff;
    }

    if (n < more + 1) {
        return 0xfffffffe;
    }

    for (i = 1; i <= more; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + i;
            return 0xffffffff;
        }

        u = (u << 6) | (s[i] & 0x3f);
    }

    *p = s + more + 1;

    return (u >= least && u <= 0x10ffff) ? u : 0xffffffff;
}


size_t
ngx_utf8_length(u_char *p, size_t n)
{
    u_char  *last;
    size_t   len;

    last = p + n;

    for (len = 0; p < last; len++) {
        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            return n;
        }
    }

    return len;
}

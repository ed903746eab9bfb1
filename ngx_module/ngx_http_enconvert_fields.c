
/*
 * enconvert nginx module: the rules for every field of a convert request
 * body (docs/api.md, docs/validation.md).
 *
 * Each field is one entry of a table: its JSON type, the endpoint it
 * applies to, a range (integers and numbers: the value, strings: the
 * length), allowed values, the members of an object, and an optional
 * check function for rules that need code.  Objects are checked
 * recursively, so errors name the field by its path
 * ("pdf_options.margins.top").  Members that are JSON null count as not
 * given and are removed, so the worker never sees a null.
 */


#include "ngx_http_enconvert_module.h"


#define NGX_HTTP_ENCONVERT_T_ANY        0
#define NGX_HTTP_ENCONVERT_T_BOOL       1
#define NGX_HTTP_ENCONVERT_T_INT        2
#define NGX_HTTP_ENCONVERT_T_NUMBER     3
#define NGX_HTTP_ENCONVERT_T_STRING     4
#define NGX_HTTP_ENCONVERT_T_OBJECT     5

/* string length counted in characters, not bytes */
#define NGX_HTTP_ENCONVERT_F_CHARS      0x01
/* enum matched ignoring ASCII case, forwarded in its canonical spelling */
#define NGX_HTTP_ENCONVERT_F_CASELESS   0x02
/* number must be greater than min, not equal */
#define NGX_HTTP_ENCONVERT_F_ABOVE_MIN  0x04
/* member required in its object */
#define NGX_HTTP_ENCONVERT_F_REQUIRED   0x08

#define NGX_HTTP_ENCONVERT_NO_LIMIT     1e9


typedef struct ngx_http_enconvert_field_s  ngx_http_enconvert_field_t;

typedef ngx_int_t (*ngx_http_enconvert_check_pt)(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);

struct ngx_http_enconvert_field_s {
    const char                    *name;
    ngx_uint_t                     type;
    ngx_uint_t                     only;
    ngx_uint_t                     flags;
    double                         min;
    double                         max;
    const char                   **values;
    ngx_http_enconvert_field_t    *members;
    ngx_http_enconvert_check_pt    check;
};


static u_char *ngx_http_enconvert_utf8_whole(u_char *start, u_char *last);
static ngx_int_t ngx_http_enconvert_check_object(ngx_http_request_t *r,
    json_t *obj, ngx_http_enconvert_field_t *table, ngx_uint_t endpoint,
    u_char *path, size_t plen, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_value(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, ngx_uint_t endpoint, json_t *value,
    u_char *path, size_t plen, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_string(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value, u_char *path,
    ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_urls(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_email_field(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_callback(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_filename(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_text(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_pdf_options(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_patterns(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_pattern(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_cookies(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_cookie(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_items(ngx_http_request_t *r,
    u_char *path, json_t *value, const char *items, const char *plural,
    size_t max, ngx_http_enconvert_check_pt check,
    ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_token(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_cookie_value(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_cookie_path(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_cookie_domain(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_cookie_url(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_headers(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_auth(ngx_http_request_t *r,
    u_char *path, json_t *value, ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_credentials(ngx_http_request_t *r,
    json_t *root, ngx_http_enconvert_error_t *err);
static ngx_uint_t ngx_http_enconvert_is_tchar(u_char c);
static u_char *ngx_http_enconvert_number(u_char *buf, double d);


/*
 * The tables of every field (ngx_http_enconvert_<table>_fields) and their
 * item limits, generated from schema/options.json.
 */
#include "ngx_http_enconvert_fields_table.h"


static const char  *ngx_http_enconvert_type_names[] = {
    "a valid value", "a boolean", "an integer", "a number", "a string",
    "an object"
};


/* the routes that take a field, by its endpoint bits (f->only) */

static const char  *ngx_http_enconvert_only_routes[] = {
    NULL,
    "/v1/convert/url-to-pdf and /v1/convert/website-to-pdf",
    "/v1/convert/url-to-screenshot and /v1/convert/website-to-screenshot",
    NULL,
    "/v1/convert/website-to-pdf and /v1/convert/website-to-screenshot"
};


/*
 * Checks the whole body object.  NGX_OK: valid (nulls removed, host
 * names and page sizes normalised); NGX_DECLINED: *err is set.
 */

ngx_int_t
ngx_http_enconvert_check_body(ngx_http_request_t *r, json_t *root,
    ngx_uint_t endpoint, ngx_http_enconvert_error_t *err)
{
    ngx_int_t  rc;

    u_char  path[NGX_HTTP_ENCONVERT_FIELD_MAX];

    path[0] = '\0';

    rc = ngx_http_enconvert_check_object(r, root,
                                         ngx_http_enconvert_body_fields,
                                         endpoint, path, 0, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_enconvert_check_credentials(r, root, err);
}


/*
 * The end of [start, last) cut back to a whole UTF-8 character: the text
 * is valid UTF-8 (jansson checked the body) that a fixed buffer cut.
 */

static u_char *
ngx_http_enconvert_utf8_whole(u_char *start, u_char *last)
{
    u_char  *p;
    size_t   need;

    p = last;

    while (p > start && (p[-1] & 0xc0) == 0x80) {
        p--;
    }

    if (p == start || p[-1] < 0xc0) {
        return last;
    }

    /* p[-1] leads a character: whole if its bytes all made it */

    need = p[-1] >= 0xf0 ? 4 : p[-1] >= 0xe0 ? 3 : 2;

    return (size_t) (last - (p - 1)) < need ? p - 1 : last;
}


static ngx_int_t
ngx_http_enconvert_check_object(ngx_http_request_t *r, json_t *obj,
    ngx_http_enconvert_field_t *table, ngx_uint_t endpoint, u_char *path,
    size_t plen, ngx_http_enconvert_error_t *err)
{
    u_char                      *last, *end;
    void                        *tmp;
    json_t                      *value;
    ngx_int_t                    rc;
    const char                  *name;
    ngx_http_enconvert_field_t  *f;

    end = path + NGX_HTTP_ENCONVERT_FIELD_MAX - 1;

    json_object_foreach_safe(obj, tmp, name, value) {

        last = ngx_slprintf(path + plen, end, plen ? ".%s" : "%s", name);

        if (last == end) {
            /* cut: never inside a character, the path goes into the detail */
            last = ngx_http_enconvert_utf8_whole(path + plen, last);
        }

        *last = '\0';

        for (f = table; f->name; f++) {
            if (ngx_strcmp(f->name, name) == 0) {
                break;
            }
        }

        if (f->name == NULL) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "unknown_field", (char *) path,
                "unknown field \"%s\"; see the API reference for the "
                "accepted fields", path);
            return NGX_DECLINED;
        }

        if (json_is_null(value)) {
            if (json_object_del(obj, name) != 0) {
                return NGX_ERROR;
            }

            continue;
        }

        rc = ngx_http_enconvert_check_value(r, f, endpoint, value, path,
                                            last - path, err);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    for (f = table; f->name; f++) {
        if ((f->flags & NGX_HTTP_ENCONVERT_F_REQUIRED)
            && json_object_get(obj, f->name) == NULL)
        {
            last = ngx_slprintf(path + plen, end, plen ? ".%s" : "%s",
                                f->name);
            *last = '\0';

            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "missing_field", (char *) path,
                "the field \"%s\" is required", path);
            return NGX_DECLINED;
        }
    }

    path[plen] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_value(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, ngx_uint_t endpoint, json_t *value,
    u_char *path, size_t plen, ngx_http_enconvert_error_t *err)
{
    double      d;
    ngx_int_t   rc;
    json_int_t  i;

    u_char  lo[NGX_INT64_LEN + 8], hi[NGX_INT64_LEN + 8];

    if ((f->only & endpoint) != f->only) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_field", (char *) path,
            "\"%s\" applies to %s only", path,
            ngx_http_enconvert_only_routes[f->only]);
        return NGX_DECLINED;
    }

    switch (f->type) {

    case NGX_HTTP_ENCONVERT_T_BOOL:
        if (!json_is_boolean(value)) {
            goto type;
        }

        break;

    case NGX_HTTP_ENCONVERT_T_INT:
        if (!json_is_integer(value)) {
            goto type;
        }

        i = json_integer_value(value);

        if ((double) i < f->min || (double) i > f->max) {
            goto range;
        }

        break;

    case NGX_HTTP_ENCONVERT_T_NUMBER:
        if (!json_is_number(value)) {
            goto type;
        }

        d = json_number_value(value);

        if (d < f->min || d > f->max
            || ((f->flags & NGX_HTTP_ENCONVERT_F_ABOVE_MIN) && d <= f->min))
        {
            goto range;
        }

        break;

    case NGX_HTTP_ENCONVERT_T_STRING:
        if (!json_is_string(value)) {
            goto type;
        }

        rc = ngx_http_enconvert_check_string(r, f, value, path, err);
        if (rc != NGX_OK) {
            return rc;
        }

        break;

    case NGX_HTTP_ENCONVERT_T_OBJECT:
        if (!json_is_object(value)) {
            goto type;
        }

        if (f->members) {
            rc = ngx_http_enconvert_check_object(r, value, f->members,
                                                 endpoint, path, plen, err);
            if (rc != NGX_OK) {
                return rc;
            }
        }

        break;

    default: /* NGX_HTTP_ENCONVERT_T_ANY */
        break;
    }

    if (f->check) {
        return f->check(r, path, value, err);
    }

    return NGX_OK;

type:

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "invalid_type", (char *) path, "\"%s\" must be %s", path,
        ngx_http_enconvert_type_names[f->type]);

    return NGX_DECLINED;

range:

    *ngx_http_enconvert_number(lo, f->min) = '\0';
    *ngx_http_enconvert_number(hi, f->max) = '\0';

    if (f->flags & NGX_HTTP_ENCONVERT_F_ABOVE_MIN) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", (char *) path,
            "\"%s\" must be greater than %s and at most %s", path, lo, hi);

    } else {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", (char *) path,
            "\"%s\" must be between %s and %s", path, lo, hi);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_enconvert_check_string(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value, u_char *path,
    ngx_http_enconvert_error_t *err)
{
    u_char       *s;
    size_t        len, n;
    const char  **v;

    s = (u_char *) json_string_value(value);
    len = json_string_length(value);

    if (ngx_strlchr(s, s + len, '\0') != NULL) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", (char *) path,
            "\"%s\" must not contain NUL characters", path);
        return NGX_DECLINED;
    }

    if (f->values) {
        for (v = f->values; *v; v++) {
            if (ngx_strlen(*v) != len) {
                continue;
            }

            if ((f->flags & NGX_HTTP_ENCONVERT_F_CASELESS)
                ? ngx_strncasecmp((u_char *) *v, s, len) == 0
                : ngx_strncmp(*v, s, len) == 0)
            {
                break;
            }
        }

        if (*v == NULL) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) path,
                "\"%s\" must be one of the documented values%s", path,
                f->values == ngx_http_enconvert_pdf_page_size_values
                ? ": A0-A6, B0-B5, Letter, Legal, Tabloid, Ledger" : "");
            return NGX_DECLINED;
        }

        if ((f->flags & NGX_HTTP_ENCONVERT_F_CASELESS)
            && ngx_strncmp(*v, s, len) != 0
            && json_string_set(value, *v) != 0)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    n = (f->flags & NGX_HTTP_ENCONVERT_F_CHARS) ? ngx_utf8_length(s, len)
                                                : len;

    if ((double) n < f->min || (double) n > f->max) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", (char *) path,
            "\"%s\" must be %L to %L %s long", path, (int64_t) f->min,
            (int64_t) f->max,
            (f->flags & NGX_HTTP_ENCONVERT_F_CHARS) ? "characters"
                                                    : "bytes");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_urls(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    size_t                          i, n;
    json_t                         *item;
    ngx_int_t                       rc;
    const char                     *problem;
    ngx_http_enconvert_loc_conf_t  *elcf;

    u_char  field[NGX_INT_T_LEN + sizeof("url[]")];

    if (json_is_string(value)) {
        rc = ngx_http_enconvert_check_url(r, value, 0, &problem);

        if (rc == NGX_DECLINED) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_url", "url", "url: %s", problem);
        }

        return rc;
    }

    if (!json_is_array(value)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_type", "url",
            "\"url\" must be a string or an array of strings");
        return NGX_DECLINED;
    }

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    n = json_array_size(value);

    if (n == 0) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_url", "url", "\"url\" must list at least one URL");
        return NGX_DECLINED;
    }

    if (n > (size_t) elcf->max_urls) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "too_many_urls", "url", "\"url\" lists %uz URLs, at most %i "
            "are allowed", n, elcf->max_urls);
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        item = json_array_get(value, i);

        *ngx_sprintf(field, "url[%uz]", i) = '\0';

        if (!json_is_string(item)) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_type", (char *) field, "%s: must be a string",
                field);
            return NGX_DECLINED;
        }

        rc = ngx_http_enconvert_check_url(r, item, 0, &problem);

        if (rc == NGX_DECLINED) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_url", (char *) field, "%s: %s", field, problem);
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_email_field(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    ngx_int_t    rc;
    const char  *problem;

    rc = ngx_http_enconvert_check_email(r, value, &problem);

    if (rc == NGX_DECLINED) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_email", (char *) path, "%s: %s", path, problem);
    }

    return rc;
}


static ngx_int_t
ngx_http_enconvert_check_callback(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    ngx_int_t    rc;
    const char  *problem;

    rc = ngx_http_enconvert_check_url(r, value, 1, &problem);

    if (rc == NGX_DECLINED) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_callback_url", (char *) path, "%s: %s", path, problem);
    }

    return rc;
}


/* a base name: no path separators, no "..", no control characters */

static ngx_int_t
ngx_http_enconvert_check_filename(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char      *s, *p, *last;
    size_t       len;
    const char  *problem;

    s = (u_char *) json_string_value(value);
    len = json_string_length(value);
    last = s + len;

    problem = NULL;

    for (p = s; p < last; p++) {
        if (*p == '/' || *p == '\\') {
            problem = "must be a plain file name without \"/\" or \"\\\"";
            break;
        }

        if (*p < 0x20 || *p == 0x7f) {
            problem = "must not contain control characters";
            break;
        }

        if (*p == '.' && p + 1 < last && p[1] == '.') {
            problem = "must not contain \"..\"";
            break;
        }
    }

    if (problem == NULL && len == 1 && *s == '.') {
        problem = "must not be \".\"";
    }

    if (problem) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", (char *) path, "\"%s\" %s", path, problem);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_text(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char  *s, *p, *last;

    s = (u_char *) json_string_value(value);
    last = s + json_string_length(value);

    for (p = s; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) path,
                "\"%s\" must not contain control characters", path);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* page_width and page_height come together or not at all */

static ngx_int_t
ngx_http_enconvert_check_pdf_options(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    json_t      *w, *h;
    const char  *missing, *given;

    u_char  field[NGX_HTTP_ENCONVERT_FIELD_MAX];

    w = json_object_get(value, "page_width");
    h = json_object_get(value, "page_height");

    if ((w == NULL) == (h == NULL)) {
        return NGX_OK;
    }

    missing = w ? "page_height" : "page_width";
    given = w ? "page_width" : "page_height";

    /* the field at fault is the missing one */

    *ngx_slprintf(field, field + sizeof(field) - 1, "%s.%s", path, missing)
        = '\0';

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "missing_field", (char *) field,
        "\"%s\" is required when \"%s.%s\" is given: a custom page "
        "size needs both", field, path, given);

    return NGX_DECLINED;
}


/*
 * include_patterns, exclude_patterns: an array of at most 20 regular
 * expressions of 1..500 bytes each.  Their syntax is the worker's to judge
 * (400 invalid_pattern): it is the one that runs them.
 */

static ngx_int_t
ngx_http_enconvert_check_patterns(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    return ngx_http_enconvert_check_items(r, path, value, "strings",
                                          "patterns",
                                          NGX_HTTP_ENCONVERT_MAX_PATTERNS,
                                          ngx_http_enconvert_check_pattern,
                                          err);
}


static ngx_int_t
ngx_http_enconvert_check_pattern(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char  *s;
    size_t   len;

    if (!json_is_string(value)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_type", (char *) path, "\"%s\" must be a string", path);
        return NGX_DECLINED;
    }

    s = (u_char *) json_string_value(value);
    len = json_string_length(value);

    if (len < NGX_HTTP_ENCONVERT_PATTERN_MIN
        || len > NGX_HTTP_ENCONVERT_PATTERN_MAX)
    {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", (char *) path,
            "\"%s\" must be %d to %d bytes long", path,
            NGX_HTTP_ENCONVERT_PATTERN_MIN, NGX_HTTP_ENCONVERT_PATTERN_MAX);
        return NGX_DECLINED;
    }

    if (ngx_strlchr(s, s + len, '\0') != NULL) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", (char *) path,
            "\"%s\" must not contain NUL characters", path);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * cookies: an array of at most 50 cookie objects (the vendor's limit), each
 * with a name, a value and a domain or a URL.
 */

static ngx_int_t
ngx_http_enconvert_check_cookies(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    return ngx_http_enconvert_check_items(r, path, value, "cookie objects",
                                          "cookies",
                                          NGX_HTTP_ENCONVERT_MAX_COOKIES,
                                          ngx_http_enconvert_check_cookie,
                                          err);
}


/*
 * An array of at most max items, each checked by check and named by its
 * path with its index ("cookies[2]"); items and plural name them in the
 * answers ("cookie objects", "cookies").
 */

static ngx_int_t
ngx_http_enconvert_check_items(ngx_http_request_t *r, u_char *path,
    json_t *value, const char *items, const char *plural, size_t max,
    ngx_http_enconvert_check_pt check, ngx_http_enconvert_error_t *err)
{
    size_t      i, n;
    ngx_int_t   rc;

    u_char  field[NGX_HTTP_ENCONVERT_FIELD_MAX];

    if (!json_is_array(value)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_type", (char *) path, "\"%s\" must be an array of %s",
            path, items);
        return NGX_DECLINED;
    }

    n = json_array_size(value);

    if (n > max) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", (char *) path,
            "\"%s\" lists %uz %s, at most %uz are allowed", path, n, plural,
            max);
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        *ngx_slprintf(field, field + sizeof(field) - 1, "%s[%uz]", path, i)
            = '\0';

        rc = check(r, field, json_array_get(value, i), err);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_cookie(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    size_t      plen;
    json_t     *domain, *url;
    ngx_int_t   rc;

    if (!json_is_object(value)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_type", (char *) path, "\"%s\" must be an object", path);
        return NGX_DECLINED;
    }

    plen = ngx_strlen(path);

    rc = ngx_http_enconvert_check_object(r, value,
                                         ngx_http_enconvert_cookie_fields,
                                         NGX_HTTP_ENCONVERT_ALL, path, plen,
                                         err);
    if (rc != NGX_OK) {
        return rc;
    }

    domain = json_object_get(value, "domain");
    url = json_object_get(value, "url");

    /* where the cookie belongs: exactly one of the two, as in Playwright */

    if (domain == NULL && url == NULL) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "missing_field", (char *) path,
            "\"%s\" needs a \"domain\" or a \"url\"", path);
        return NGX_DECLINED;
    }

    if (domain != NULL && url != NULL) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", (char *) path,
            "\"%s\" takes a \"domain\" or a \"url\", not both", path);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* an HTTP token (RFC 9110, 5.6.2): header and cookie names */

static ngx_int_t
ngx_http_enconvert_check_token(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char  *p, *last;

    p = (u_char *) json_string_value(value);
    last = p + json_string_length(value);

    for ( /* void */ ; p < last; p++) {
        if (!ngx_http_enconvert_is_tchar(*p)) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) path,
                "\"%s\" must be an HTTP token (letters, digits and "
                "!#$%%&'*+-.^_`|~)", path);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* cookie-octets of RFC 6265: printable ASCII without ; , \ " and space */

static ngx_int_t
ngx_http_enconvert_check_cookie_value(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char  *p, *last;

    p = (u_char *) json_string_value(value);
    last = p + json_string_length(value);

    for ( /* void */ ; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == ';' || *p == ','
            || *p == '\\' || *p == '"')
        {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) path,
                "\"%s\" must be printable ASCII without spaces, \";\", "
                "\",\", \"\\\" or quotes (RFC 6265)", path);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_cookie_path(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char  *p, *last;

    p = (u_char *) json_string_value(value);
    last = p + json_string_length(value);

    if (*p != '/') {
        goto invalid;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == ';') {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "invalid_value", (char *) path,
        "\"%s\" must start with \"/\" and hold printable ASCII without \";\"",
        path);

    return NGX_DECLINED;
}


/* a host name, with an optional leading dot (the cookie's subdomains too) */

static ngx_int_t
ngx_http_enconvert_check_cookie_domain(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char  *p, *last;

    p = (u_char *) json_string_value(value);
    last = p + json_string_length(value);

    if (*p == '.') {
        p++;
    }

    if (p == last) {
        goto invalid;
    }

    for ( /* void */ ; p < last; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
              || *p == '_'))
        {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "invalid_value", (char *) path,
        "\"%s\" must be a host name such as \"example.com\" or "
        "\".example.com\"", path);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_enconvert_check_cookie_url(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    ngx_int_t    rc;
    const char  *problem;

    rc = ngx_http_enconvert_check_url(r, value, 0, &problem);

    if (rc == NGX_DECLINED) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", (char *) path, "%s: %s", path, problem);
    }

    return rc;
}


/*
 * headers: at most 20 extra request headers, name -> value.  Hop-by-hop
 * headers and those the engine computes itself are refused: a client must
 * not be able to change how the connection or the message is framed.
 */

static ngx_int_t
ngx_http_enconvert_check_headers(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    u_char       *p, *last;
    void         *tmp, *tmp2;
    size_t        len;
    json_t       *v, *v2;
    ngx_int_t     rc;
    ngx_uint_t    i;
    const char   *name, *name2;

    u_char  field[NGX_HTTP_ENCONVERT_FIELD_MAX];

    static const char  *refused[] = {
        "connection", "keep-alive", "te", "trailer", "transfer-encoding",
        "upgrade", "host", "content-length", NULL
    };

    if (json_object_size(value) > NGX_HTTP_ENCONVERT_MAX_HEADERS) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", (char *) path,
            "\"%s\" lists %uz headers, at most %d are allowed", path,
            json_object_size(value), NGX_HTTP_ENCONVERT_MAX_HEADERS);
        return NGX_DECLINED;
    }

    json_object_foreach_safe(value, tmp, name, v) {

        *ngx_slprintf(field, field + sizeof(field) - 1, "%s.%s", path, name)
            = '\0';

        len = ngx_strlen(name);

        if (len == 0 || len > 128) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) field,
                "header names in \"%s\" must be 1 to 128 bytes long", path);
            return NGX_DECLINED;
        }

        for (p = (u_char *) name; *p; p++) {
            if (!ngx_http_enconvert_is_tchar(*p)) {
                ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                    "invalid_value", (char *) field,
                    "\"%s\": a header name must be an HTTP token (letters, "
                    "digits and !#$%%&'*+-.^_`|~)", field);
                return NGX_DECLINED;
            }
        }

        for (i = 0; refused[i]; i++) {
            if (ngx_strcasecmp((u_char *) refused[i], (u_char *) name) == 0) {
                break;
            }
        }

        if (refused[i] || ngx_strncasecmp((u_char *) name,
                                          (u_char *) "proxy-", 6) == 0)
        {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) field,
                "\"%s\": the header \"%s\" cannot be set (hop-by-hop and "
                "framing headers are the engine's own)", field, name);
            return NGX_DECLINED;
        }

        /* header names are case-insensitive: one header, one value */

        json_object_foreach_safe(value, tmp2, name2, v2) {
            if (name2 != name
                && ngx_strcasecmp((u_char *) name2, (u_char *) name) == 0)
            {
                ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                    "invalid_value", (char *) field,
                    "\"%s\": the header is given twice (names are "
                    "case-insensitive)", field);
                return NGX_DECLINED;
            }
        }

        if (json_is_null(v)) {
            if (json_object_del(value, name) != 0) {
                return NGX_ERROR;
            }

            continue;
        }

        if (!json_is_string(v)) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_type", (char *) field, "\"%s\" must be a string",
                field);
            return NGX_DECLINED;
        }

        p = (u_char *) json_string_value(v);
        last = p + json_string_length(v);

        if (last - p > 8192) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "out_of_range", (char *) field,
                "\"%s\" must be 0 to 8192 bytes long", field);
            return NGX_DECLINED;
        }

        /* a field value (RFC 9110, 5.5): no CR, LF, NUL or other controls */

        rc = NGX_OK;

        for ( /* void */ ; p < last; p++) {
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
                rc = NGX_DECLINED;
                break;
            }
        }

        if (rc != NGX_OK) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", (char *) field,
                "\"%s\" must not contain control characters (CR, LF, NUL, "
                "...)", field);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* Basic credentials: RFC 7617 does not allow a colon in the user name */

static ngx_int_t
ngx_http_enconvert_check_auth(ngx_http_request_t *r, u_char *path,
    json_t *value, ngx_http_enconvert_error_t *err)
{
    json_t  *user;

    user = json_object_get(value, "username");

    if (user && ngx_strlchr((u_char *) json_string_value(user),
                            (u_char *) json_string_value(user)
                            + json_string_length(user), ':'))
    {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", "auth.username",
            "\"auth.username\" must not contain \":\" (HTTP Basic)");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* auth is an Authorization header: not both */

static ngx_int_t
ngx_http_enconvert_check_credentials(ngx_http_request_t *r, json_t *root,
    ngx_http_enconvert_error_t *err)
{
    void        *tmp;
    json_t      *headers, *v;
    const char  *name;

    headers = json_object_get(root, "headers");

    if (json_object_get(root, "auth") == NULL || headers == NULL) {
        return NGX_OK;
    }

    json_object_foreach_safe(headers, tmp, name, v) {
        if (ngx_strcasecmp((u_char *) name, (u_char *) "authorization") == 0) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_field", "auth",
                "\"auth\" cannot be used together with an Authorization "
                "header in \"headers\": use one or the other");
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_enconvert_is_tchar(u_char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return ngx_strchr("!#$%&'*+-.^_`|~", c) != NULL && c != '\0';
}


/* a range bound: "0.1", "2", "5000" */

static u_char *
ngx_http_enconvert_number(u_char *buf, double d)
{
    u_char  *p;

    if (d == (double) (int64_t) d) {
        return ngx_sprintf(buf, "%L", (int64_t) d);
    }

    p = ngx_sprintf(buf, "%.3f", d);

    while (p[-1] == '0') {
        p--;
    }

    return p;
}


/*
 * enconvert nginx module: JSON request body -> validated fields -> msgpack
 * request for the worker (schema/messages.md).
 *
 * Every body field is described by one entry of
 * ngx_http_enconvert_fields[]: its JSON type, the endpoint it applies to,
 * a range (integers: value, strings: length in bytes), allowed values,
 * and an optional check function for rules that need code.
 */


#include "ngx_http_enconvert_module.h"

#include <jansson.h>
#include <msgpack.h>


#define NGX_HTTP_ENCONVERT_T_ANY      0
#define NGX_HTTP_ENCONVERT_T_BOOL     1
#define NGX_HTTP_ENCONVERT_T_INT      2
#define NGX_HTTP_ENCONVERT_T_STRING   3
#define NGX_HTTP_ENCONVERT_T_OBJECT   4

#define NGX_HTTP_ENCONVERT_ALL        0
#define NGX_HTTP_ENCONVERT_PDF        1
#define NGX_HTTP_ENCONVERT_SHOT       2


typedef struct ngx_http_enconvert_field_s  ngx_http_enconvert_field_t;

typedef ngx_int_t (*ngx_http_enconvert_check_pt)(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err);

struct ngx_http_enconvert_field_s {
    const char                    *name;
    ngx_uint_t                     type;
    ngx_uint_t                     only;
    json_int_t                     min;
    json_int_t                     max;
    const char                   **values;
    ngx_http_enconvert_check_pt    check;
};


static ngx_http_enconvert_field_t *ngx_http_enconvert_field(
    const char *name);
static ngx_int_t ngx_http_enconvert_check_field(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, ngx_uint_t endpoint, json_t *value,
    ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_urls(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_email(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_callback(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err);
static ngx_int_t ngx_http_enconvert_check_text(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err);
static const char *ngx_http_enconvert_url_problem(const u_char *p,
    size_t len, ngx_uint_t https_only);
static ngx_uint_t ngx_http_enconvert_depth(json_t *v);
static ngx_int_t ngx_http_enconvert_base_url(ngx_http_request_t *r,
    ngx_str_t *out);
static int ngx_http_enconvert_pack_json(msgpack_packer *pk, json_t *v);
static int ngx_http_enconvert_pack_str(msgpack_packer *pk, const char *s);
static int ngx_http_enconvert_pack_ngx_str(msgpack_packer *pk,
    ngx_str_t *s);
static ngx_int_t ngx_http_enconvert_sbuf_to_pool(ngx_http_request_t *r,
    msgpack_sbuffer *sbuf, ngx_str_t *out);


static const char  *ngx_http_enconvert_wait_until[] = {
    "load", "networkidle", NULL
};

static const char  *ngx_http_enconvert_image_formats[] = {
    "png", "jpeg", "webp", NULL
};


static ngx_http_enconvert_field_t  ngx_http_enconvert_fields[] = {

    { "url", NGX_HTTP_ENCONVERT_T_ANY, NGX_HTTP_ENCONVERT_ALL,
      0, 0, NULL, ngx_http_enconvert_check_urls },

    { "async_mode", NGX_HTTP_ENCONVERT_T_BOOL, NGX_HTTP_ENCONVERT_ALL,
      0, 0, NULL, NULL },

    { "notification_email", NGX_HTTP_ENCONVERT_T_STRING,
      NGX_HTTP_ENCONVERT_ALL, 3, 254, NULL, ngx_http_enconvert_check_email },

    { "callback_url", NGX_HTTP_ENCONVERT_T_STRING, NGX_HTTP_ENCONVERT_ALL,
      1, NGX_HTTP_ENCONVERT_URL_MAX, NULL,
      ngx_http_enconvert_check_callback },

    { "direct_download", NGX_HTTP_ENCONVERT_T_BOOL, NGX_HTTP_ENCONVERT_ALL,
      0, 0, NULL, NULL },

    { "output_filename", NGX_HTTP_ENCONVERT_T_STRING, NGX_HTTP_ENCONVERT_ALL,
      1, 255, NULL, ngx_http_enconvert_check_text },

    { "viewport_width", NGX_HTTP_ENCONVERT_T_INT, NGX_HTTP_ENCONVERT_ALL,
      320, 7680, NULL, NULL },

    { "viewport_height", NGX_HTTP_ENCONVERT_T_INT, NGX_HTTP_ENCONVERT_ALL,
      240, 43200, NULL, NULL },

    { "wait_for_selector", NGX_HTTP_ENCONVERT_T_STRING,
      NGX_HTTP_ENCONVERT_ALL, 1, 1024, NULL, ngx_http_enconvert_check_text },

    { "wait_for_selector_timeout", NGX_HTTP_ENCONVERT_T_INT,
      NGX_HTTP_ENCONVERT_ALL, 1, 60000, NULL, NULL },

    { "wait_until", NGX_HTTP_ENCONVERT_T_STRING, NGX_HTTP_ENCONVERT_ALL,
      1, 16, ngx_http_enconvert_wait_until, NULL },

    { "delay", NGX_HTTP_ENCONVERT_T_INT, NGX_HTTP_ENCONVERT_ALL,
      0, 30000, NULL, NULL },

    { "timeout", NGX_HTTP_ENCONVERT_T_INT, NGX_HTTP_ENCONVERT_ALL,
      1, 300, NULL, NULL },

    { "single_page", NGX_HTTP_ENCONVERT_T_BOOL, NGX_HTTP_ENCONVERT_PDF,
      0, 0, NULL, NULL },

    /* TODO: the pdf_options members (API.md) are checked by the worker */

    { "pdf_options", NGX_HTTP_ENCONVERT_T_OBJECT, NGX_HTTP_ENCONVERT_PDF,
      0, 0, NULL, NULL },

    { "image_format", NGX_HTTP_ENCONVERT_T_STRING, NGX_HTTP_ENCONVERT_SHOT,
      1, 16, ngx_http_enconvert_image_formats, NULL },

    { "image_quality", NGX_HTTP_ENCONVERT_T_INT, NGX_HTTP_ENCONVERT_SHOT,
      1, 100, NULL, NULL },

    { "full_page", NGX_HTTP_ENCONVERT_T_BOOL, NGX_HTTP_ENCONVERT_SHOT,
      0, 0, NULL, NULL },

    { NULL, 0, 0, 0, 0, NULL, NULL }
};


static const char  *ngx_http_enconvert_type_names[] = {
    "a valid value", "a boolean", "an integer", "a string", "an object"
};


ngx_int_t
ngx_http_enconvert_build_convert(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *endpoint, u_char *body,
    size_t len, ngx_str_t *out, ngx_http_enconvert_error_t *err)
{
    u_char                      *p;
    size_t                       i, n, noptions;
    json_t                      *root, *value, *url, *async_mode;
    uint64_t                     id;
    ngx_int_t                    rc;
    ngx_str_t                    base_url, idem;
    ngx_uint_t                   ep, batch, async;
    const char                  *name;
    json_error_t                 jerr;
    msgpack_packer               pk;
    ngx_table_elt_t             *h;
    msgpack_sbuffer              sbuf;
    ngx_http_enconvert_field_t  *f;

    ep = (endpoint->len == sizeof("url-to-pdf") - 1)
         ? NGX_HTTP_ENCONVERT_PDF : NGX_HTTP_ENCONVERT_SHOT;

    ngx_str_null(&idem);

    h = ngx_http_enconvert_find_header(r, "Idempotency-Key",
                                       sizeof("Idempotency-Key") - 1);
    if (h != NULL) {
        idem = h->value;

        for (p = idem.data; p < idem.data + idem.len; p++) {
            if (*p < 0x21 || *p > 0x7e) {
                break;
            }
        }

        if (idem.len == 0 || idem.len > 255 || p != idem.data + idem.len) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_idempotency_key", "Idempotency-Key",
                "the Idempotency-Key header must be 1 to 255 printable "
                "ASCII characters");
            return NGX_DECLINED;
        }
    }

    if (len == 0) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_json", NULL, "the request body is empty");
        return NGX_DECLINED;
    }

    root = json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES,
                      &jerr);

    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_duplicate_key) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "duplicate_key", NULL,
                "the request body repeats an object key: %s", jerr.text);

        } else {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_json", NULL,
                "the request body is not valid JSON: %s (line %d, "
                "column %d)", jerr.text, jerr.line, jerr.column);
        }

        return NGX_DECLINED;
    }

    if (!json_is_object(root)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_json", NULL, "the request body must be a JSON object");
        goto declined;
    }

    if (ngx_http_enconvert_depth(root) > NGX_HTTP_ENCONVERT_JSON_DEPTH) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "nesting_too_deep", NULL,
            "the request body nests deeper than %d levels",
            NGX_HTTP_ENCONVERT_JSON_DEPTH);
        goto declined;
    }

    noptions = 0;

    json_object_foreach(root, name, value) {

        f = ngx_http_enconvert_field(name);

        if (f == NULL) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "unknown_field", name, "unknown field \"%s\"", name);
            goto declined;
        }

        if (json_is_null(value)) {
            continue;
        }

        rc = ngx_http_enconvert_check_field(r, f, ep, value, err);
        if (rc != NGX_OK) {
            goto failed;
        }

        if (f != &ngx_http_enconvert_fields[0]
            && f != &ngx_http_enconvert_fields[1])
        {
            noptions++;
        }
    }

    url = json_object_get(root, "url");

    if (url == NULL || json_is_null(url)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "missing_field", "url", "the field \"url\" is required");
        goto declined;
    }

    async_mode = json_object_get(root, "async_mode");

    batch = json_is_array(url);
    async = batch || json_is_true(async_mode);

    if (ngx_http_enconvert_base_url(r, &base_url) != NGX_OK) {
        goto error;
    }

    id = ngx_http_enconvert_backend_next_id();

    ctx->node.key = (ngx_rbtree_key_t) id;
    ctx->sync = !async;

    /* pack the request, schema/messages.md */

    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);

    n = idem.len ? 11 : 10;

    if (msgpack_pack_map(&pk, n) != 0
        || ngx_http_enconvert_pack_str(&pk, "v") != 0
        || msgpack_pack_uint64(&pk, NGX_HTTP_ENCONVERT_PROTO_VERSION) != 0
        || ngx_http_enconvert_pack_str(&pk, "id") != 0
        || msgpack_pack_uint64(&pk, id) != 0
        || ngx_http_enconvert_pack_str(&pk, "op") != 0
        || ngx_http_enconvert_pack_str(&pk, "convert") != 0
        || ngx_http_enconvert_pack_str(&pk, "key") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, &ctx->api_key) != 0
        || ngx_http_enconvert_pack_str(&pk, "base_url") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, &base_url) != 0
        || ngx_http_enconvert_pack_str(&pk, "endpoint") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, endpoint) != 0
        || ngx_http_enconvert_pack_str(&pk, "batch") != 0
        || (batch ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) != 0
        || ngx_http_enconvert_pack_str(&pk, "async") != 0
        || (async ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) != 0
        || ngx_http_enconvert_pack_str(&pk, "urls") != 0)
    {
        goto pack_failed;
    }

    if (batch) {
        if (msgpack_pack_array(&pk, json_array_size(url)) != 0) {
            goto pack_failed;
        }

        for (i = 0; i < json_array_size(url); i++) {
            if (ngx_http_enconvert_pack_json(&pk, json_array_get(url, i))
                != 0)
            {
                goto pack_failed;
            }
        }

    } else {
        if (msgpack_pack_array(&pk, 1) != 0
            || ngx_http_enconvert_pack_json(&pk, url) != 0)
        {
            goto pack_failed;
        }
    }

    if (ngx_http_enconvert_pack_str(&pk, "options") != 0
        || msgpack_pack_map(&pk, noptions) != 0)
    {
        goto pack_failed;
    }

    json_object_foreach(root, name, value) {

        if (json_is_null(value)
            || ngx_strcmp(name, "url") == 0
            || ngx_strcmp(name, "async_mode") == 0)
        {
            continue;
        }

        if (ngx_http_enconvert_pack_str(&pk, name) != 0
            || ngx_http_enconvert_pack_json(&pk, value) != 0)
        {
            goto pack_failed;
        }
    }

    if (idem.len) {
        if (ngx_http_enconvert_pack_str(&pk, "idempotency_key") != 0
            || ngx_http_enconvert_pack_ngx_str(&pk, &idem) != 0)
        {
            goto pack_failed;
        }
    }

    json_decref(root);

    return ngx_http_enconvert_sbuf_to_pool(r, &sbuf, out);

pack_failed:

    msgpack_sbuffer_destroy(&sbuf);

error:

    json_decref(root);
    return NGX_ERROR;

failed:

    json_decref(root);
    return rc;

declined:

    json_decref(root);
    return NGX_DECLINED;
}


ngx_int_t
ngx_http_enconvert_build_simple(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *job_id, ngx_str_t *out)
{
    uint64_t         id;
    ngx_str_t        base_url;
    msgpack_packer   pk;
    msgpack_sbuffer  sbuf;

    id = ngx_http_enconvert_backend_next_id();
    ctx->node.key = (ngx_rbtree_key_t) id;

    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);

    if (ctx->op == NGX_HTTP_ENCONVERT_OP_HEALTH) {
        if (msgpack_pack_map(&pk, 3) != 0
            || ngx_http_enconvert_pack_str(&pk, "v") != 0
            || msgpack_pack_uint64(&pk, NGX_HTTP_ENCONVERT_PROTO_VERSION)
               != 0
            || ngx_http_enconvert_pack_str(&pk, "id") != 0
            || msgpack_pack_uint64(&pk, id) != 0
            || ngx_http_enconvert_pack_str(&pk, "op") != 0
            || ngx_http_enconvert_pack_str(&pk, "health") != 0)
        {
            goto failed;
        }

        return ngx_http_enconvert_sbuf_to_pool(r, &sbuf, out);
    }

    if (ngx_http_enconvert_base_url(r, &base_url) != NGX_OK) {
        goto failed;
    }

    if (msgpack_pack_map(&pk, 6) != 0
        || ngx_http_enconvert_pack_str(&pk, "v") != 0
        || msgpack_pack_uint64(&pk, NGX_HTTP_ENCONVERT_PROTO_VERSION) != 0
        || ngx_http_enconvert_pack_str(&pk, "id") != 0
        || msgpack_pack_uint64(&pk, id) != 0
        || ngx_http_enconvert_pack_str(&pk, "op") != 0
        || ngx_http_enconvert_pack_str(&pk, "status") != 0
        || ngx_http_enconvert_pack_str(&pk, "key") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, &ctx->api_key) != 0
        || ngx_http_enconvert_pack_str(&pk, "base_url") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, &base_url) != 0
        || ngx_http_enconvert_pack_str(&pk, "job_id") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, job_id) != 0)
    {
        goto failed;
    }

    return ngx_http_enconvert_sbuf_to_pool(r, &sbuf, out);

failed:

    msgpack_sbuffer_destroy(&sbuf);
    return NGX_ERROR;
}


static ngx_http_enconvert_field_t *
ngx_http_enconvert_field(const char *name)
{
    ngx_http_enconvert_field_t  *f;

    for (f = ngx_http_enconvert_fields; f->name; f++) {
        if (ngx_strcmp(f->name, name) == 0) {
            return f;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_enconvert_check_field(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, ngx_uint_t endpoint, json_t *value,
    ngx_http_enconvert_error_t *err)
{
    size_t        len;
    json_int_t    i;
    const char  **v, *s;

    if (f->only != NGX_HTTP_ENCONVERT_ALL && f->only != endpoint) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_field", f->name, "\"%s\" applies to %s only", f->name,
            f->only == NGX_HTTP_ENCONVERT_PDF ? "url-to-pdf"
                                              : "url-to-screenshot");
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

        if (i < f->min || i > f->max) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "out_of_range", f->name, "\"%s\" must be between %L and %L",
                f->name, (int64_t) f->min, (int64_t) f->max);
            return NGX_DECLINED;
        }
        break;

    case NGX_HTTP_ENCONVERT_T_STRING:
        if (!json_is_string(value)) {
            goto type;
        }

        s = json_string_value(value);
        len = json_string_length(value);

        if (f->values) {
            for (v = f->values; *v; v++) {
                if (ngx_strlen(*v) == len && ngx_strcmp(*v, s) == 0) {
                    break;
                }
            }

            if (*v == NULL) {
                ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                    "invalid_value", f->name,
                    "\"%s\" must be one of the documented values", f->name);
                return NGX_DECLINED;
            }
        }

        if ((json_int_t) len < f->min || (json_int_t) len > f->max) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "out_of_range", f->name,
                "\"%s\" must be %L to %L bytes long",
                f->name, (int64_t) f->min, (int64_t) f->max);
            return NGX_DECLINED;
        }
        break;

    case NGX_HTTP_ENCONVERT_T_OBJECT:
        if (!json_is_object(value)) {
            goto type;
        }
        break;

    default: /* NGX_HTTP_ENCONVERT_T_ANY */
        break;
    }

    if (f->check) {
        return f->check(r, f, value, err);
    }

    return NGX_OK;

type:

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "invalid_type", f->name, "\"%s\" must be %s", f->name,
        ngx_http_enconvert_type_names[f->type]);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_enconvert_check_urls(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err)
{
    size_t                          i, n;
    json_t                         *item;
    const char                     *problem;
    ngx_http_enconvert_loc_conf_t  *elcf;

    u_char  field[NGX_INT_T_LEN + sizeof("url[]")];

    if (json_is_string(value)) {
        problem = ngx_http_enconvert_url_problem(
                      (u_char *) json_string_value(value),
                      json_string_length(value), 0);

        if (problem) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_url", "url", "url: %s", problem);
            return NGX_DECLINED;
        }

        return NGX_OK;
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

        problem = ngx_http_enconvert_url_problem(
                      (u_char *) json_string_value(item),
                      json_string_length(item), 0);

        if (problem) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_url", (char *) field, "%s: %s", field, problem);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_email(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err)
{
    size_t       len, i, at, ats;
    const char  *s;

    s = json_string_value(value);
    len = json_string_length(value);

    ats = 0;
    at = 0;

    for (i = 0; i < len; i++) {
        u_char  c = (u_char) s[i];

        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ','
            || c == ';' || c == '"' || c == '(' || c == ')' || c == '\\')
        {
            goto invalid;
        }

        if (c == '@') {
            ats++;
            at = i;
        }
    }

    if (ats != 1 || at == 0 || at > 64 || at == len - 1
        || len - at - 1 > 253)
    {
        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "invalid_email", f->name,
        "\"%s\" must be one plain e-mail address such as user@example.com",
        f->name);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_enconvert_check_callback(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err)
{
    const char  *problem;

    problem = ngx_http_enconvert_url_problem(
                  (u_char *) json_string_value(value),
                  json_string_length(value), 1);

    if (problem) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_callback_url", f->name, "%s: %s", f->name, problem);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_check_text(ngx_http_request_t *r,
    ngx_http_enconvert_field_t *f, json_t *value,
    ngx_http_enconvert_error_t *err)
{
    size_t       i, len;
    const char  *s;

    s = json_string_value(value);
    len = json_string_length(value);

    for (i = 0; i < len; i++) {
        if ((u_char) s[i] < 0x20 || s[i] == 0x7f) {
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_value", f->name,
                "\"%s\" must not contain control characters", f->name);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * A careful hand check of an absolute http(s) URL: scheme, host, port,
 * no user-info, no whitespace or control characters.  The worker parses
 * the URL fully and resolves the host.
 */

static const char *
ngx_http_enconvert_url_problem(const u_char *p, size_t len,
    ngx_uint_t https_only)
{
    const u_char  *last, *auth, *end, *host, *q;
    ngx_uint_t     port;

    if (len == 0) {
        return "must not be empty";
    }

    if (len > NGX_HTTP_ENCONVERT_URL_MAX) {
        return "must be at most 2048 bytes long";
    }

    last = p + len;

    for (q = p; q < last; q++) {
        if (*q <= 0x20 || *q == 0x7f) {
            return "must not contain spaces or control characters";
        }
    }

    if (len > sizeof("https://") - 1
        && ngx_strncasecmp((u_char *) p, (u_char *) "https://",
                           sizeof("https://") - 1) == 0)
    {
        auth = p + sizeof("https://") - 1;

    } else if (!https_only
               && len > sizeof("http://") - 1
               && ngx_strncasecmp((u_char *) p, (u_char *) "http://",
                                  sizeof("http://") - 1) == 0)
    {
        auth = p + sizeof("http://") - 1;

    } else {
        return https_only ? "must be an absolute https:// URL"
                          : "scheme must be http or https";
    }

    for (end = auth; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }
    }

    if (end == auth) {
        return "must name a host";
    }

    for (q = auth; q < end; q++) {
        if (*q == '@') {
            return "must not contain user information";
        }

        if (*q == '\\') {
            return "has an invalid host";
        }
    }

    if (*auth == '[') {
        for (q = auth + 1; q < end && *q != ']'; q++) {
            if (!(ngx_http_enconvert_isalnum(*q) || *q == ':' || *q == '.'
                  || *q == '%'))
            {
                return "has an invalid IPv6 host";
            }
        }

        if (q == end || q == auth + 1) {
            return "has an invalid IPv6 host";
        }

        q++;

    } else {
        host = auth;

        for (q = auth; q < end && *q != ':'; q++) {
            if (!(ngx_http_enconvert_isalnum(*q) || *q == '-' || *q == '.'
                  || *q == '_' || *q >= 0x80))
            {
                return "has an invalid host";
            }
        }

        if (q == host) {
            return "must name a host";
        }
    }

    if (q == end) {
        return NULL;
    }

    if (*q != ':' || q + 1 == end || end - q - 1 > 5) {
        return "has an invalid port";
    }

    port = 0;

    for (q++; q < end; q++) {
        if (*q < '0' || *q > '9') {
            return "has an invalid port";
        }

        port = port * 10 + (*q - '0');
    }

    if (port == 0 || port > 65535) {
        return "has an invalid port";
    }

    return NULL;
}


static ngx_uint_t
ngx_http_enconvert_depth(json_t *v)
{
    size_t       i;
    json_t      *item;
    ngx_uint_t   d, max;
    const char  *key;

    max = 0;

    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            d = ngx_http_enconvert_depth(item);
            if (d > max) {
                max = d;
            }
        }

        return max + 1;
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            d = ngx_http_enconvert_depth(item);
            if (d > max) {
                max = d;
            }
        }

        return max + 1;
    }

    return 0;
}


static ngx_int_t
ngx_http_enconvert_base_url(ngx_http_request_t *r, ngx_str_t *out)
{
    u_char                    *p;
    ngx_str_t                  scheme, host;
    ngx_http_core_srv_conf_t  *cscf;

    ngx_str_set(&scheme, "http://");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    }
#endif

    if (r->headers_in.host && r->headers_in.host->value.len) {
        host = r->headers_in.host->value;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;

        if (host.len == 0) {
            ngx_str_set(&host, "localhost");
        }
    }

    p = ngx_pnalloc(r->pool, scheme.len + host.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, scheme.data, scheme.len);
    p = ngx_cpymem(p, host.data, host.len);
    out->len = p - out->data;

    return NGX_OK;
}


static int
ngx_http_enconvert_pack_json(msgpack_packer *pk, json_t *v)
{
    size_t       i;
    json_t      *item;
    const char  *key;

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        if (msgpack_pack_map(pk, json_object_size(v)) != 0) {
            return -1;
        }

        json_object_foreach(v, key, item) {
            if (ngx_http_enconvert_pack_str(pk, key) != 0
                || ngx_http_enconvert_pack_json(pk, item) != 0)
            {
                return -1;
            }
        }

        return 0;

    case JSON_ARRAY:
        if (msgpack_pack_array(pk, json_array_size(v)) != 0) {
            return -1;
        }

        json_array_foreach(v, i, item) {
            if (ngx_http_enconvert_pack_json(pk, item) != 0) {
                return -1;
            }
        }

        return 0;

    case JSON_STRING:
        return msgpack_pack_str_with_body(pk, json_string_value(v),
                                          json_string_length(v));

    case JSON_INTEGER:
        return msgpack_pack_int64(pk, json_integer_value(v));

    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(v));

    case JSON_TRUE:
        return msgpack_pack_true(pk);

    case JSON_FALSE:
        return msgpack_pack_false(pk);

    default: /* JSON_NULL */
        return msgpack_pack_nil(pk);
    }
}


static int
ngx_http_enconvert_pack_str(msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body(pk, s, ngx_strlen(s));
}


static int
ngx_http_enconvert_pack_ngx_str(msgpack_packer *pk, ngx_str_t *s)
{
    return msgpack_pack_str_with_body(pk, s->data, s->len);
}


static ngx_int_t
ngx_http_enconvert_sbuf_to_pool(ngx_http_request_t *r,
    msgpack_sbuffer *sbuf, ngx_str_t *out)
{
    out->data = ngx_pnalloc(r->pool, sbuf->size);
    if (out->data == NULL) {
        msgpack_sbuffer_destroy(sbuf);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, sbuf->data, sbuf->size);
    out->len = sbuf->size;

    msgpack_sbuffer_destroy(sbuf);

    return NGX_OK;
}


/*
 * enconvert nginx module: the client's own job id (request field job_id,
 * docs/api.md "Your own job ids") and the rules between the fields that
 * choose how a request is answered (direct_download, output_format, the
 * one URL of a website capture).
 *
 * job_id is taken out of the body before the field table checks the rest
 * and put back afterwards, so it reaches the worker among the options.
 */


#include "ngx_http_enconvert_module.h"


#define NGX_HTTP_ENCONVERT_JOB_ID_MAX  128


/* 1..128 of [A-Za-z0-9_-]: the ids the status and batch routes take */

ngx_int_t
ngx_http_enconvert_valid_job_id(ngx_str_t *id)
{
    size_t  i;
    u_char  c;

    if (id->len == 0 || id->len > NGX_HTTP_ENCONVERT_JOB_ID_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < id->len; i++) {
        c = id->data[i];

        if (!(ngx_http_enconvert_isalnum(c) || c == '_' || c == '-')) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * Removes "job_id" from the body object.  NGX_OK: *job_id is the checked
 * value with its own reference, or NULL (absent or null); NGX_DECLINED:
 * *err is set.
 */

ngx_int_t
ngx_http_enconvert_take_job_id(ngx_http_request_t *r, json_t *root,
    json_t **job_id, ngx_http_enconvert_error_t *err)
{
    json_t     *v;
    ngx_str_t   s;

    *job_id = NULL;

    v = json_object_get(root, "job_id");
    if (v == NULL) {
        return NGX_OK;
    }

    if (json_is_null(v)) {
        json_object_del(root, "job_id");
        return NGX_OK;
    }

    if (!json_is_string(v)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_type", "job_id", "\"job_id\" must be a string");
        return NGX_DECLINED;
    }

    s.data = (u_char *) json_string_value(v);
    s.len = json_string_length(v);

    if (s.len == 0 || s.len > NGX_HTTP_ENCONVERT_JOB_ID_MAX) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "out_of_range", "job_id",
            "\"job_id\" must be 1 to %d characters long",
            NGX_HTTP_ENCONVERT_JOB_ID_MAX);
        return NGX_DECLINED;
    }

    if (ngx_http_enconvert_valid_job_id(&s) != NGX_OK) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", "job_id",
            "\"job_id\" may contain only ASCII letters, digits, \"_\" "
            "and \"-\"");
        return NGX_DECLINED;
    }

    *job_id = json_incref(v);
    json_object_del(root, "job_id");

    return NGX_OK;
}


/*
 * output_format (true or "zip"; false: no ZIP) bundles the results of a
 * URL array into one ZIP besides the files (docs/api.md "Batch ZIP").  As
 * the vendor's gateway does, it is refused for a single URL, an array of
 * one included: there is nothing to bundle.  A website capture takes any
 * of the three values: its result is always a ZIP.
 */

static ngx_int_t
ngx_http_enconvert_check_output_format(ngx_http_request_t *r, json_t *root,
    ngx_uint_t website, ngx_http_enconvert_error_t *err)
{
    json_t  *v, *url;

    v = json_object_get(root, "output_format");

    if (v == NULL || json_is_false(v)) {
        return NGX_OK;
    }

    /* the length too: a JSON string may hold a NUL ("zip\u0000x") */
    if (!json_is_true(v)
        && !(json_is_string(v) && json_string_length(v) == 3
             && ngx_strncmp(json_string_value(v), "zip", 3) == 0))
    {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", "output_format",
            "\"output_format\" must be true, false or \"zip\"");
        return NGX_DECLINED;
    }

    url = json_object_get(root, "url");

    if (!website && (!json_is_array(url) || json_array_size(url) < 2)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_value", "output_format",
            "\"output_format\" bundles the results of several URLs into "
            "one ZIP; it needs a \"url\" array of two or more URLs");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * direct_download answers one synchronous render with its file: with
 * async_mode, a URL array or a website capture there is nothing to send,
 * so it is refused rather than silently ignored.  A website capture
 * starts from one URL: an array is refused.  Runs after the field table
 * (types known); endpoint: the route's field bits.
 */

ngx_int_t
ngx_http_enconvert_check_modes(ngx_http_request_t *r, json_t *root,
    ngx_uint_t endpoint, ngx_http_enconvert_error_t *err)
{
    json_t      *url;
    ngx_uint_t   website;
    const char  *why;

    website = endpoint & NGX_HTTP_ENCONVERT_WEBSITE;
    url = json_object_get(root, "url");

    if (website && json_is_array(url)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_type", "url",
            "\"url\" must be a string: a website capture starts from one "
            "URL");
        return NGX_DECLINED;
    }

    if (ngx_http_enconvert_check_output_format(r, root, website, err)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (!json_is_true(json_object_get(root, "direct_download"))) {
        return NGX_OK;
    }

    if (website) {
        why = "a website capture, which is always asynchronous";

    } else if (json_is_array(url)) {
        why = "a URL array, which is always asynchronous";

    } else if (json_is_true(json_object_get(root, "async_mode"))) {
        why = "\"async_mode\": true";

    } else {
        return NGX_OK;
    }

    ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
        "invalid_value", "direct_download",
        "\"direct_download\" answers a synchronous request for one URL "
        "with the file; it cannot be used with %s", why);

    return NGX_DECLINED;
}


/*
 * enconvert nginx module: directives, configuration, process hooks,
 * content handler with routing, authentication and body reading.
 */


#include "ngx_http_enconvert_module.h"


static ngx_int_t ngx_http_enconvert_convert(ngx_http_request_t *r,
    ngx_str_t *endpoint);
static void ngx_http_enconvert_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_enconvert_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_enconvert_status(ngx_http_request_t *r,
    ngx_str_t *job_id);
static ngx_int_t ngx_http_enconvert_health(ngx_http_request_t *r);
static ngx_int_t ngx_http_enconvert_dispatch(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *msg, ngx_msec_t timeout);
static void ngx_http_enconvert_cleanup(void *data);
static ngx_int_t ngx_http_enconvert_json_content_type(ngx_http_request_t *r);

static ngx_int_t ngx_http_enconvert_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_enconvert_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_enconvert_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_enconvert_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_enconvert_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_enconvert_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_enconvert_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_enconvert_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_enconvert_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_enconvert_handler_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_enconvert_backend(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_enconvert_load_secret(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf, ngx_str_t *directive,
    ngx_str_t *file);
static char *ngx_http_enconvert_secret_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_enconvert_check_msec(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_enconvert_check_size(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_enconvert_check_max_urls(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_enconvert_check_location(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_enconvert_init_process(ngx_cycle_t *cycle);
static void ngx_http_enconvert_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_enconvert_msec_post =
    ngx_http_enconvert_check_msec;
static ngx_conf_post_handler_pt  ngx_http_enconvert_size_post =
    ngx_http_enconvert_check_size;
static ngx_conf_post_handler_pt  ngx_http_enconvert_location_post =
    ngx_http_enconvert_check_location;

static ngx_conf_post_handler_pt  ngx_http_enconvert_max_urls_post =
    ngx_http_enconvert_check_max_urls;

static ngx_conf_post_handler_pt  ngx_http_enconvert_heartbeat_post =
    ngx_http_enconvert_check_heartbeat;


static ngx_command_t  ngx_http_enconvert_commands[] = {

    { ngx_string("enconvert_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_enconvert_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("enconvert_rate_limited"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_enconvert_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_enconvert_rate_limited },

    { ngx_string("enconvert_error"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_enconvert_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_enconvert_nginx_error },

    { ngx_string("enconvert_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_enconvert_handler_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) ngx_http_enconvert_metrics_handler },

    { ngx_string("enconvert_backend"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_enconvert_backend,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("enconvert_curve_server_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_enconvert_curve_server_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("enconvert_curve_client_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_enconvert_curve_client_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("enconvert_allow_plain_tcp"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_enconvert_main_conf_t, allow_plain_tcp),
      NULL },

    { ngx_string("enconvert_heartbeat_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_enconvert_main_conf_t, heartbeat_interval),
      &ngx_http_enconvert_heartbeat_post },

    { ngx_string("enconvert_heartbeat_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_enconvert_main_conf_t, heartbeat_timeout),
      &ngx_http_enconvert_heartbeat_post },

    { ngx_string("enconvert_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_enconvert_loc_conf_t, timeout),
      &ngx_http_enconvert_msec_post },

    { ngx_string("enconvert_sync_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_enconvert_loc_conf_t, sync_timeout),
      &ngx_http_enconvert_msec_post },

    { ngx_string("enconvert_max_urls"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_enconvert_loc_conf_t, max_urls),
      &ngx_http_enconvert_max_urls_post },

    { ngx_string("enconvert_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_enconvert_loc_conf_t, max_body_size),
      &ngx_http_enconvert_size_post },

    { ngx_string("enconvert_signing_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_enconvert_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("enconvert_status_cache_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_enconvert_main_conf_t, status_cache_size),
      NULL },

    { ngx_string("enconvert_files_location"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_enconvert_loc_conf_t, files_location),
      &ngx_http_enconvert_location_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_enconvert_module_ctx = {
    ngx_http_enconvert_preconfiguration,   /* preconfiguration */
    ngx_http_enconvert_postconfiguration,  /* postconfiguration */

    ngx_http_enconvert_create_main_conf,   /* create main configuration */
    ngx_http_enconvert_init_main_conf,     /* init main configuration */

    ngx_http_enconvert_create_srv_conf,    /* create server configuration */
    ngx_http_enconvert_merge_srv_conf,     /* merge server configuration */

    ngx_http_enconvert_create_loc_conf,    /* create location configuration */
    ngx_http_enconvert_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_enconvert_module = {
    NGX_MODULE_V1,
    &ngx_http_enconvert_module_ctx,        /* module context */
    ngx_http_enconvert_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_enconvert_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_enconvert_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * Indexed by ngx_http_enconvert_route_e: the "route" label of the metrics;
 * the convert routes' names are also the endpoint names the worker gets.
 */

ngx_str_t  ngx_http_enconvert_route_names[] = {
    ngx_string("url-to-pdf"),
    ngx_string("url-to-screenshot"),
    ngx_string("website-to-pdf"),
    ngx_string("website-to-screenshot"),
    ngx_string("status"),
    ngx_string("files"),
    ngx_string("health"),
    ngx_string("batch"),
    ngx_string("download"),
    ngx_string("whoami"),
    ngx_string("auth-verify"),
    ngx_string("liveness"),
    ngx_string("other")
};


#define ngx_http_enconvert_prefix(uri, s)                                     \
    ((uri)->len >= sizeof(s) - 1                                              \
     && ngx_strncmp((uri)->data, s, sizeof(s) - 1) == 0)

#define ngx_http_enconvert_str_eq(a, b)                                       \
    ((a)->len == (b)->len && ngx_strncmp((a)->data, (b)->data, (a)->len) == 0)


/*
 * The route of a URI, matched on the full URI (docs/directives.md).  If
 * rest is not NULL, it gets what follows the route's prefix: the endpoint
 * name of a convert, the job id of a status, the object key of a file.
 */

ngx_uint_t
ngx_http_enconvert_route(ngx_str_t *uri, ngx_str_t *rest)
{
    ngx_str_t   tail, *names;
    ngx_uint_t  i, route;

    names = ngx_http_enconvert_route_names;
    route = NGX_HTTP_ENCONVERT_ROUTE_OTHER;
    ngx_str_null(&tail);

    if (ngx_http_enconvert_prefix(uri, "/v1/convert/")) {
        tail.data = uri->data + sizeof("/v1/convert/") - 1;
        tail.len = uri->len - (sizeof("/v1/convert/") - 1);

        for (i = 0; i < NGX_HTTP_ENCONVERT_NCONVERTS; i++) {
            if (ngx_http_enconvert_str_eq(&tail, &names[i])) {
                break;
            }
        }

        if (i < NGX_HTTP_ENCONVERT_NCONVERTS) {
            route = i;

        } else if (ngx_http_enconvert_prefix(&tail, "status/")) {
            tail.data += sizeof("status/") - 1;
            tail.len -= sizeof("status/") - 1;
            route = NGX_HTTP_ENCONVERT_ROUTE_STATUS;

        } else if (ngx_http_enconvert_prefix(&tail, "batch/")) {
            tail.data += sizeof("batch/") - 1;
            tail.len -= sizeof("batch/") - 1;
            route = NGX_HTTP_ENCONVERT_ROUTE_BATCH;

        } else if (ngx_http_enconvert_prefix(&tail, "download/")) {
            tail.data += sizeof("download/") - 1;
            tail.len -= sizeof("download/") - 1;
            route = NGX_HTTP_ENCONVERT_ROUTE_DOWNLOAD;
        }

    } else if (ngx_http_enconvert_prefix(uri, "/v1/files/")) {
        tail.data = uri->data + sizeof("/v1/files/") - 1;
        tail.len = uri->len - (sizeof("/v1/files/") - 1);
        route = NGX_HTTP_ENCONVERT_ROUTE_FILES;

    } else if (uri->len == sizeof("/v1/health") - 1
               && ngx_strncmp(uri->data, "/v1/health", uri->len) == 0)
    {
        route = NGX_HTTP_ENCONVERT_ROUTE_HEALTH;

    } else if (uri->len == sizeof("/v1/whoami") - 1
               && ngx_strncmp(uri->data, "/v1/whoami", uri->len) == 0)
    {
        route = NGX_HTTP_ENCONVERT_ROUTE_WHOAMI;

    } else if (uri->len == sizeof("/v1/auth/verify") - 1
               && ngx_strncmp(uri->data, "/v1/auth/verify", uri->len) == 0)
    {
        route = NGX_HTTP_ENCONVERT_ROUTE_VERIFY;

    } else if (uri->len == sizeof("/health") - 1
               && ngx_strncmp(uri->data, "/health", uri->len) == 0)
    {
        route = NGX_HTTP_ENCONVERT_ROUTE_LIVENESS;
    }

    if (rest) {
        *rest = tail;
    }

    return route;
}


/*
 * Whether an error nginx answers belongs to the API: the path the client
 * sent, up to its query, lies in one of this server's locations with
 * enconvert_api (a prefix, an exact or a regular expression location; a
 * location nginx would prefer, such as a longer prefix of another site
 * inside the API's, is not looked for).  The path is taken as sent, not
 * normalised: the error may come before nginx parsed the request line
 * (r->uri is empty then), and an error_page to a URI replaces r->uri.
 * If path is not NULL it gets that path.
 */

ngx_int_t
ngx_http_enconvert_for_api(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                          *p, *last;
    ngx_str_t                        s;
    ngx_uint_t                       i;
    ngx_http_core_loc_conf_t        *clcf, **clcfp;
    ngx_http_enconvert_srv_conf_t   *escf;

    escf = ngx_http_get_module_srv_conf(r, ngx_http_enconvert_module);

    if (escf->api_locations == NULL || r->uri_start == NULL
        || (r->uri_end == NULL && r->header_in == NULL))
    {
        return NGX_DECLINED;
    }

    /* no end yet: the request line broke off in the buffer being read */

    last = r->uri_end ? r->uri_end : r->header_in->last;

    for (p = r->uri_start; p < last; p++) {
        if (*p == '?' || *p == '#' || *p == ' ' || *p == '\t' || *p == '\0'
            || *p == CR || *p == LF)
        {
            break;
        }
    }

    s.data = r->uri_start;
    s.len = p - r->uri_start;

    if (path) {
        *path = s;
    }

    clcfp = escf->api_locations->elts;

    for (i = 0; i < escf->api_locations->nelts; i++) {
        clcf = clcfp[i];

#if (NGX_PCRE)
        if (clcf->regex) {
            if (ngx_regex_exec(clcf->regex->regex, &s, NULL, 0) >= 0) {
                return NGX_OK;
            }

            continue;
        }
#endif

        if (s.len < clcf->name.len
            || (clcf->exact_match && s.len != clcf->name.len)
            || ngx_strncmp(s.data, clcf->name.data, clcf->name.len) != 0)
        {
            continue;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_enconvert_handler(ngx_http_request_t *r)
{
    ngx_str_t  rest;

    if (ngx_http_enconvert_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_http_enconvert_route(&r->uri, &rest)) {

    case NGX_HTTP_ENCONVERT_ROUTE_PDF:
    case NGX_HTTP_ENCONVERT_ROUTE_SHOT:
    case NGX_HTTP_ENCONVERT_ROUTE_SITE_PDF:
    case NGX_HTTP_ENCONVERT_ROUTE_SITE_SHOT:
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_enconvert_method_not_allowed(r, "POST");
        }

        return ngx_http_enconvert_convert(r, &rest);

    case NGX_HTTP_ENCONVERT_ROUTE_STATUS:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_status(r, &rest);

    case NGX_HTTP_ENCONVERT_ROUTE_FILES:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_files(r, &rest);

    case NGX_HTTP_ENCONVERT_ROUTE_HEALTH:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_health(r);

    case NGX_HTTP_ENCONVERT_ROUTE_BATCH:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_lookup(r, NGX_HTTP_ENCONVERT_OP_BATCH,
                                         &rest);

    case NGX_HTTP_ENCONVERT_ROUTE_DOWNLOAD:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_lookup(r, NGX_HTTP_ENCONVERT_OP_DOWNLOAD,
                                         &rest);

    case NGX_HTTP_ENCONVERT_ROUTE_WHOAMI:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_lookup(r, NGX_HTTP_ENCONVERT_OP_WHOAMI,
                                         NULL);

    case NGX_HTTP_ENCONVERT_ROUTE_VERIFY:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_lookup(r, NGX_HTTP_ENCONVERT_OP_VERIFY,
                                         NULL);

    case NGX_HTTP_ENCONVERT_ROUTE_LIVENESS:
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_enconvert_liveness(r);

    default:
        return ngx_http_enconvert_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        "no such API route", NULL);
    }
}


static ngx_int_t
ngx_http_enconvert_convert(ngx_http_request_t *r, ngx_str_t *endpoint)
{
    ngx_int_t                       rc;
    ngx_str_t                       key;
    ngx_http_enconvert_ctx_t       *ctx;
    ngx_http_enconvert_error_t      err;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    if (ngx_http_enconvert_auth(r, &key, &err) != NGX_OK) {
        return ngx_http_enconvert_send_error(r, &err);
    }

    /* the key is judged first: ngx_http_enconvert_refusal.c */

    if (ngx_http_enconvert_json_content_type(r) != NGX_OK) {
        ngx_http_enconvert_set_error(r, &err, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type", NULL,
            "the request body must be sent as application/json");
        return ngx_http_enconvert_refuse(r, &key, &err, 0);
    }

    if (r->headers_in.content_length_n > (off_t) elcf->max_body_size) {
        ngx_http_enconvert_set_error(r, &err,
            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large", NULL,
            "the request body is larger than the configured limit");
        return ngx_http_enconvert_refuse(r, &key, &err, 0);
    }

    ctx = ngx_http_enconvert_create_ctx(r, NGX_HTTP_ENCONVERT_OP_CONVERT);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->api_key = key;
    ctx->endpoint = *endpoint;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_enconvert_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_enconvert_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       body, msg;
    ngx_msec_t                      timeout;
    ngx_http_enconvert_ctx_t       *ctx;
    ngx_http_enconvert_error_t      err;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_enconvert_module);

    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_enconvert_read_body(r, &body);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memzero(&err, sizeof(ngx_http_enconvert_error_t));

    if (rc == NGX_DECLINED) {
        ngx_http_enconvert_set_error(r, &err,
            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large", NULL,
            "the request body is larger than the configured limit");
        goto refuse;
    }

    rc = ngx_http_enconvert_build_convert(r, ctx, &ctx->endpoint, body.data,
                                          body.len, &msg, &err);

    if (rc == NGX_DECLINED) {
        goto refuse;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    timeout = elcf->timeout;

    if (ctx->sync) {
        ctx->sync_timeout = elcf->sync_timeout;
        timeout = ngx_min(elcf->timeout, elcf->sync_timeout);
    }

    rc = ngx_http_enconvert_dispatch(r, ctx, &msg, timeout);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }

    return;

refuse:

    rc = ngx_http_enconvert_refuse(r, &ctx->api_key, &err, 1);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * Collects the request body into one buffer, reading the parts that
 * nginx wrote to a temporary file.  NGX_DECLINED: over the size limit.
 */

static ngx_int_t
ngx_http_enconvert_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t                           total;
    size_t                          size;
    ssize_t                         n;
    u_char                         *p;
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    total = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        total += ngx_buf_size(cl->buf);
    }

    if (total > (off_t) elcf->max_body_size) {
        return NGX_DECLINED;
    }

    if (total == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) total);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (b->in_file) {
            size = (size_t) (b->file_last - b->file_pos);

            n = ngx_read_file(b->file, p, size, b->file_pos);
            if (n != (ssize_t) size) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "enconvert: short read of request body file");
                return NGX_ERROR;
            }

            p += size;
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_status(ngx_http_request_t *r, ngx_str_t *job_id)
{
    u_char                      *p, *last;
    ngx_int_t                    rc;
    ngx_str_t                    key;
    ngx_http_enconvert_error_t   err;

    if (ngx_http_enconvert_auth(r, &key, &err) != NGX_OK) {
        return ngx_http_enconvert_send_error(r, &err);
    }

    if (job_id->len == 0 || job_id->len > 128) {
        goto not_found;
    }

    last = job_id->data + job_id->len;

    for (p = job_id->data; p < last; p++) {
        if (!(ngx_http_enconvert_isalnum(*p) || *p == '_' || *p == '-')) {
            goto not_found;
        }
    }

    rc = ngx_http_enconvert_status_cache_answer(r, &key, job_id);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_enconvert_ask_worker(r, NGX_HTTP_ENCONVERT_OP_STATUS,
                                         &key, job_id);

not_found:

    return ngx_http_enconvert_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                    "no such job", NULL);
}


static ngx_int_t
ngx_http_enconvert_health(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       msg;
    ngx_http_enconvert_ctx_t       *ctx;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_enconvert_create_ctx(r, NGX_HTTP_ENCONVERT_OP_HEALTH);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->idempotent = 1;

    if (ngx_http_enconvert_build_simple(r, ctx, NULL, &msg) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_enconvert_dispatch(r, ctx, &msg,
                                     ngx_min(elcf->timeout,
                                             NGX_HTTP_ENCONVERT_HEALTH_WAIT));

    if (rc == NGX_DONE) {
        r->main->count++;
    }

    return rc;
}


/*
 * Sends the message to the backend.  Returns NGX_DONE while the request
 * waits for its reply (the caller must not finalize it), otherwise the
 * code to finalize the request with.  A content handler that returns
 * NGX_DONE must take a reference first (the body handler already holds
 * the one ngx_http_read_client_request_body() took).
 */

static ngx_int_t
ngx_http_enconvert_dispatch(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *msg, ngx_msec_t timeout)
{
    ngx_int_t  rc;

    rc = ngx_http_enconvert_backend_send(r, ctx, msg->data, msg->len,
                                         timeout);

    if (rc == NGX_BUSY) {
        ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_UNAVAILABLE, 1);
        return ngx_http_enconvert_unavailable(r, ctx);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


/*
 * A read-only request on a key's behalf (a job's status, the vendor
 * clients' lookups): the body is discarded and the worker answers for the
 * key's account; NGX_DONE while it does.
 */

ngx_int_t
ngx_http_enconvert_ask_worker(ngx_http_request_t *r, ngx_uint_t op,
    ngx_str_t *key, ngx_str_t *target)
{
    ngx_int_t                       rc;
    ngx_str_t                       msg;
    ngx_http_enconvert_ctx_t       *ctx;
    ngx_http_enconvert_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_enconvert_module);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_enconvert_create_ctx(r, op);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->api_key = *key;
    ctx->idempotent = 1;

    if (target) {
        ctx->target = *target;
    }

    if (ngx_http_enconvert_build_simple(r, ctx, target, &msg) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_enconvert_dispatch(r, ctx, &msg, elcf->timeout);

    if (rc == NGX_DONE) {
        r->main->count++;
    }

    return rc;
}


ngx_http_enconvert_ctx_t *
ngx_http_enconvert_create_ctx(ngx_http_request_t *r, ngx_uint_t op)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_enconvert_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_enconvert_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_enconvert_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ctx->op = op;
    ctx->start = ngx_current_msec;

    ngx_http_set_ctx(r, ctx, ngx_http_enconvert_module);

    return ctx;
}


static void
ngx_http_enconvert_cleanup(void *data)
{
    ngx_http_enconvert_ctx_t  *ctx = data;

    ngx_http_enconvert_backend_finish(ctx);
}


static ngx_int_t
ngx_http_enconvert_json_content_type(ngx_http_request_t *r)
{
    u_char     c;
    ngx_str_t  *ct;

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    ct = &r->headers_in.content_type->value;

    if (ct->len < sizeof("application/json") - 1
        || ngx_strncasecmp(ct->data, (u_char *) "application/json",
                           sizeof("application/json") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    if (ct->len == sizeof("application/json") - 1) {
        return NGX_OK;
    }

    c = ct->data[sizeof("application/json") - 1];

    return (c == ';' || c == ' ' || c == '\t') ? NGX_OK : NGX_DECLINED;
}


/* configuration */


static ngx_int_t
ngx_http_enconvert_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_enconvert_add_variables(cf);
}


static ngx_int_t
ngx_http_enconvert_postconfiguration(ngx_conf_t *cf)
{
    return ngx_http_enconvert_metrics_init(cf);
}


static void *
ngx_http_enconvert_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_enconvert_main_conf_t  *emcf;

    emcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_enconvert_main_conf_t));
    if (emcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     emcf->backends = NULL;
     *     emcf->secret = { 0, NULL };
     *     emcf->api_used = 0;
     *     emcf->handler_used = 0;
     *     emcf->metrics_zone = NULL;
     *     emcf->status_cache_zone = NULL;
     *     emcf->curve_server_key = { 0, NULL };
     *     emcf->curve_public_key = { 0, NULL };
     *     emcf->curve_secret_key = { 0, NULL };
     */

    emcf->allow_plain_tcp = NGX_CONF_UNSET;
    emcf->status_cache_size = NGX_CONF_UNSET_SIZE;
    emcf->heartbeat_interval = NGX_CONF_UNSET_MSEC;
    emcf->heartbeat_timeout = NGX_CONF_UNSET_MSEC;

    return emcf;
}


static void *
ngx_http_enconvert_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_enconvert_srv_conf_t  *escf;

    escf = ngx_pcalloc(cf->pool, sizeof(ngx_http_enconvert_srv_conf_t));
    if (escf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     escf->api_locations = NULL;
     *     escf->server_names = NULL;
     */

    return escf;
}


/*
 * The server's exact and wildcard server_name entries, kept for the links'
 * host (ngx_http_enconvert_claims_host()): nginx keeps its own list in the
 * configuration's temporary pool, gone once the configuration is read.
 */

static char *
ngx_http_enconvert_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_enconvert_srv_conf_t  *conf = child;

    ngx_str_t                 *name;
    ngx_uint_t                 i;
    ngx_http_server_name_t    *sn;
    ngx_http_core_srv_conf_t  *cscf;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    conf->server_names = ngx_array_create(cf->pool,
                                          cscf->server_names.nelts + 1,
                                          sizeof(ngx_str_t));
    if (conf->server_names == NULL) {
        return NGX_CONF_ERROR;
    }

    sn = cscf->server_names.elts;

    for (i = 0; i < cscf->server_names.nelts; i++) {

#if (NGX_PCRE)
        if (sn[i].regex) {
            continue;
        }
#endif

        if (sn[i].name.len == 0) {
            continue;
        }

        name = ngx_array_push(conf->server_names);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        name->len = sn[i].name.len;
        name->data = ngx_pstrdup(cf->pool, &sn[i].name);
        if (name->data == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * Where the packaged worker listens and keeps the signing secret: with
 * these defaults, one include of the location snippet in a server {} is
 * the whole nginx configuration of a packaged installation.
 */
static ngx_str_t  ngx_http_enconvert_default_backend =
    ngx_string("ipc:///run/enconvert/worker.sock");
static ngx_str_t  ngx_http_enconvert_default_secret =
    ngx_string("/etc/enconvert/secret");
static ngx_str_t  ngx_http_enconvert_secret_directive =
    ngx_string("enconvert_signing_secret_file");


static char *
ngx_http_enconvert_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_enconvert_main_conf_t  *emcf = conf;

    ngx_str_t  *s, file;

    if (emcf->handler_used
        && ngx_http_enconvert_metrics_zone(cf, emcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_enconvert_curve_check(cf, emcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (!emcf->api_used) {
        return NGX_CONF_OK;
    }

    if (emcf->backends == NULL) {
        emcf->backends = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
        if (emcf->backends == NULL) {
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(emcf->backends);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        /* a literal: null-terminated, as zmq_connect() needs */
        *s = ngx_http_enconvert_default_backend;
    }

    if (emcf->secret.data == NULL) {
        file = ngx_http_enconvert_default_secret;

        if (ngx_http_enconvert_load_secret(cf, emcf,
                                           &ngx_http_enconvert_secret_directive,
                                           &file)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_init_size_value(emcf->status_cache_size,
                             NGX_HTTP_ENCONVERT_STATUS_CACHE_SIZE);

    if (ngx_http_enconvert_status_cache_zone(cf, emcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_enconvert_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_enconvert_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_enconvert_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->files_location = { 0, NULL };
     */

    conf->api = NGX_CONF_UNSET;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->sync_timeout = NGX_CONF_UNSET_MSEC;
    conf->max_urls = NGX_CONF_UNSET;
    conf->max_body_size = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_enconvert_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_enconvert_loc_conf_t *prev = parent;
    ngx_http_enconvert_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->api, prev->api, 0);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 10000);
    ngx_conf_merge_msec_value(conf->sync_timeout, prev->sync_timeout, 90000);
    ngx_conf_merge_value(conf->max_urls, prev->max_urls, 100);
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              1024 * 1024);
    ngx_conf_merge_str_value(conf->files_location, prev->files_location,
                             "/_enconvert_files/");

    return NGX_CONF_OK;
}


static char *
ngx_http_enconvert_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_enconvert_loc_conf_t *elcf = conf;

    ngx_http_core_loc_conf_t        *clcf, **clcfp;
    ngx_http_enconvert_srv_conf_t   *escf;
    ngx_http_enconvert_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (elcf->api != NGX_CONF_UNSET || clcf->handler != NULL) {
        return "is duplicate";
    }

    elcf->api = 1;
    clcf->handler = ngx_http_enconvert_handler;

    /* the server's API locations, for the errors nginx answers itself */

    if (!clcf->named) {
        escf = ngx_http_conf_get_module_srv_conf(cf,
                                                 ngx_http_enconvert_module);

        if (escf->api_locations == NULL) {
            escf->api_locations = ngx_array_create(cf->pool, 1,
                                          sizeof(ngx_http_core_loc_conf_t *));
            if (escf->api_locations == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        clcfp = ngx_array_push(escf->api_locations);
        if (clcfp == NULL) {
            return NGX_CONF_ERROR;
        }

        *clcfp = clcf;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_enconvert_module);
    emcf->api_used = 1;
    emcf->handler_used = 1;

    return NGX_CONF_OK;
}


/*
 * enconvert_rate_limited, enconvert_error, enconvert_metrics: cmd->post is
 * the handler
 */

static char *
ngx_http_enconvert_handler_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t        *clcf;
    ngx_http_enconvert_main_conf_t  *emcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_enconvert_module);
    emcf->handler_used = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_enconvert_backend(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_enconvert_main_conf_t *emcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i, j;

    if (emcf->backends != NULL) {
        return "is duplicate";
    }

    emcf->backends = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                      sizeof(ngx_str_t));
    if (emcf->backends == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_enconvert_check_endpoint(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid endpoint \"%V\" in \"%V\" directive, "
                               "expected ipc://path or tcp://host:port",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        for (j = 1; j < i; j++) {
            if (value[j].len == value[i].len
                && ngx_strncmp(value[j].data, value[i].data, value[i].len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate endpoint \"%V\" in \"%V\" "
                                   "directive", &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }
        }

        s = ngx_array_push(emcf->backends);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        /* conf tokens are null-terminated, as zmq_connect() needs */
        *s = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_enconvert_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_enconvert_main_conf_t *emcf = conf;

    ngx_str_t  *value, name;

    if (emcf->secret.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    return ngx_http_enconvert_load_secret(cf, emcf, &cmd->name, &name);
}


/*
 * A short secret can be found by trying: anyone holding one link could
 * then sign links to every tenant's files.  At least the hash's length
 * (RFC 2104); the packages and the local stack write 64 hex digits.
 */

static char *
ngx_http_enconvert_load_secret(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf, ngx_str_t *directive,
    ngx_str_t *file_name)
{
    char  *rv;

    rv = ngx_http_enconvert_read_conf_file(cf, directive, file_name,
                                           &emcf->secret);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (emcf->secret.len < NGX_HTTP_ENCONVERT_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" file \"%V\" holds %uz bytes, at least %d "
                           "are needed (e.g. \"openssl rand -hex 32\")",
                           directive, file_name, emcf->secret.len,
                           NGX_HTTP_ENCONVERT_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Reads a small file named by a directive (the signing secret, a CURVE
 * key) at configuration time: up to 4096 bytes, trailing whitespace
 * removed, never empty.  out->data has room for a null after out->len.
 * A relative name is taken from the nginx prefix.
 */

char *
ngx_http_enconvert_read_conf_file(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file_name, ngx_str_t *out)
{
    u_char           *buf;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         name;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    name = *file_name;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot open \"%V\"", directive, &name);
        return NGX_CONF_ERROR;
    }

    buf = NULL;
    len = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot stat \"%V\"", directive, &name);
        goto failed;
    }

    if (ngx_file_size(&fi) > 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" file \"%V\" is larger than 4096 bytes",
                           directive, &name);
        goto failed;
    }

    len = (size_t) ngx_file_size(&fi);

    buf = ngx_pnalloc(cf->pool, len + 1);
    if (buf == NULL) {
        goto failed;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = name;
    file.log = cf->log;

    n = ngx_read_file(&file, buf, len, 0);
    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot read \"%V\"", directive, &name);
        goto failed;
    }

    len = (size_t) n;

    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'
                   || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    {
        len--;
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" file \"%V\" is empty",
                           directive, &name);
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &name);
    }

    out->data = buf;
    out->len = len;

    return NGX_CONF_OK;

failed:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &name);
    }

    return NGX_CONF_ERROR;
}


static char *
ngx_http_enconvert_check_msec(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms == 0) {
        return "must be greater than zero";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_enconvert_check_max_urls(ngx_conf_t *cf, void *post, void *data)
{
    ngx_int_t  *np = data;

    /* the worker takes no more in one request (schema/options.json) */

    if (*np < 1 || *np > NGX_HTTP_ENCONVERT_MAX_URLS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"enconvert_max_urls\" must be between 1 and %d",
                           NGX_HTTP_ENCONVERT_MAX_URLS);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_enconvert_check_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    if (*sp == 0 || *sp > 64 * 1024 * 1024) {
        return "must be between 1 and 64m";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_enconvert_check_location(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *loc = data;

    if (loc->len < 2 || loc->data[0] != '/' || loc->data[loc->len - 1] != '/')
    {
        return "must be a location prefix that starts and ends with \"/\"";
    }

    return NGX_CONF_OK;
}


/* process hooks */


static ngx_int_t
ngx_http_enconvert_init_process(ngx_cycle_t *cycle)
{
    ngx_http_enconvert_main_conf_t  *emcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ngx_http_enconvert_metrics_init_process();

    emcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_enconvert_module);

    if (emcf == NULL || emcf->backends == NULL) {
        return NGX_OK;
    }

    /* a failure leaves the backend down (503 answers), never the worker */

    (void) ngx_http_enconvert_backend_init(cycle, emcf);

    return NGX_OK;
}


static void
ngx_http_enconvert_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_enconvert_backend_exit(cycle);
    ngx_http_enconvert_digest_exit();
}

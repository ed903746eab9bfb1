
/*
 * enconvert nginx module: JSON request body -> msgpack request for the
 * worker (schema/messages.md).  The field rules live in
 * ngx_http_enconvert_fields.c, URL and e-mail rules in
 * ngx_http_enconvert_url.c.
 */


#include "ngx_http_enconvert_module.h"

#include <msgpack.h>


static ngx_uint_t ngx_http_enconvert_endpoint_fields(ngx_str_t *endpoint);
static ngx_int_t ngx_http_enconvert_idempotency_key(ngx_http_request_t *r,
    ngx_str_t *idem, ngx_http_enconvert_error_t *err);
static json_t *ngx_http_enconvert_parse(ngx_http_request_t *r, u_char *body,
    size_t len, ngx_http_enconvert_error_t *err);
static ngx_uint_t ngx_http_enconvert_depth(json_t *v);
static ngx_int_t ngx_http_enconvert_base_url(ngx_http_request_t *r,
    ngx_str_t *out);
static ngx_str_t *ngx_http_enconvert_named_host(ngx_http_request_t *r);
static void ngx_http_enconvert_authority(ngx_http_request_t *r,
    ngx_str_t *out);
static ngx_uint_t ngx_http_enconvert_claims_host(ngx_http_request_t *r,
    ngx_str_t *host);
static ngx_uint_t ngx_http_enconvert_host_name(ngx_str_t *name);
static int ngx_http_enconvert_pack_json(msgpack_packer *pk, json_t *v);
static int ngx_http_enconvert_pack_str(msgpack_packer *pk, const char *s);
static int ngx_http_enconvert_pack_ngx_str(msgpack_packer *pk,
    ngx_str_t *s);
static ngx_int_t ngx_http_enconvert_sbuf_to_pool(ngx_http_request_t *r,
    msgpack_sbuffer *sbuf, ngx_str_t *out);


ngx_int_t
ngx_http_enconvert_build_convert(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *endpoint, u_char *body,
    size_t len, ngx_str_t *out, ngx_http_enconvert_error_t *err)
{
    size_t            i, n, noptions;
    json_t           *root, *value, *url, *job_id;
    uint64_t          id;
    ngx_int_t         rc;
    ngx_str_t         base_url, idem;
    ngx_uint_t        ep, website, batch, async;
    const char       *name;
    msgpack_packer    pk;
    msgpack_sbuffer   sbuf;

    ep = ngx_http_enconvert_endpoint_fields(endpoint);
    website = ep & NGX_HTTP_ENCONVERT_WEBSITE;

    rc = ngx_http_enconvert_idempotency_key(r, &idem, err);
    if (rc != NGX_OK) {
        return rc;
    }

    root = ngx_http_enconvert_parse(r, body, len, err);
    if (root == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_enconvert_take_job_id(r, root, &job_id, err);
    if (rc != NGX_OK) {
        json_decref(root);
        return rc;
    }

    rc = ngx_http_enconvert_check_body(r, root, ep, err);

    if (rc == NGX_OK) {
        rc = ngx_http_enconvert_check_modes(r, root, ep, err);
    }

    if (rc == NGX_OK && job_id != NULL
        && json_object_set(root, "job_id", job_id) != 0)
    {
        rc = NGX_ERROR;
    }

    if (job_id != NULL) {
        ctx->client_id = 1;
        json_decref(job_id);
    }

    if (rc != NGX_OK) {
        json_decref(root);
        return rc;
    }

    /* nulls are gone, "url" is present */

    url = json_object_get(root, "url");
    value = json_object_get(root, "async_mode");

    /*
     * A website capture (one start URL) is a batch the worker always takes
     * as asynchronous, but the module waits for its answer as for a sync
     * convert: the worker answers once the site's pages are found.
     */

    batch = website || json_is_array(url);
    async = batch || json_is_true(value);

    noptions = json_object_size(root) - 1 - (value ? 1 : 0);

    if (ngx_http_enconvert_base_url(r, &base_url) != NGX_OK) {
        json_decref(root);
        return NGX_ERROR;
    }

    id = ngx_http_enconvert_backend_next_id();

    ctx->node.key = (ngx_rbtree_key_t) id;
    ctx->sync = website || !async;
    ctx->website = website ? 1 : 0;

    /* with an Idempotency-Key, sending it again creates no second job */

    ctx->idempotent = idem.len ? 1 : 0;

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
        goto failed;
    }

    if (json_is_array(url)) {
        if (msgpack_pack_array(&pk, json_array_size(url)) != 0) {
            goto failed;
        }

        for (i = 0; i < json_array_size(url); i++) {
            if (ngx_http_enconvert_pack_json(&pk, json_array_get(url, i))
                != 0)
            {
                goto failed;
            }
        }

    } else {
        if (msgpack_pack_array(&pk, 1) != 0
            || ngx_http_enconvert_pack_json(&pk, url) != 0)
        {
            goto failed;
        }
    }

    if (ngx_http_enconvert_pack_str(&pk, "options") != 0
        || msgpack_pack_map(&pk, noptions) != 0)
    {
        goto failed;
    }

    json_object_foreach(root, name, value) {

        if (ngx_strcmp(name, "url") == 0
            || ngx_strcmp(name, "async_mode") == 0)
        {
            continue;
        }

        if (ngx_http_enconvert_pack_str(&pk, name) != 0
            || ngx_http_enconvert_pack_json(&pk, value) != 0)
        {
            goto failed;
        }
    }

    if (idem.len) {
        if (ngx_http_enconvert_pack_str(&pk, "idempotency_key") != 0
            || ngx_http_enconvert_pack_ngx_str(&pk, &idem) != 0)
        {
            goto failed;
        }
    }

    json_decref(root);

    return ngx_http_enconvert_sbuf_to_pool(r, &sbuf, out);

failed:

    msgpack_sbuffer_destroy(&sbuf);
    json_decref(root);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_enconvert_build_simple(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *job_id, ngx_str_t *out)
{
    uint64_t         id;
    ngx_str_t        base_url;
    const char      *op, *target;
    msgpack_packer   pk;
    msgpack_sbuffer  sbuf;

    id = ngx_http_enconvert_backend_next_id();
    ctx->node.key = (ngx_rbtree_key_t) id;

    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);

    switch (ctx->op) {

    case NGX_HTTP_ENCONVERT_OP_BATCH:
        op = "batch";
        target = "job_id";
        break;

    case NGX_HTTP_ENCONVERT_OP_DOWNLOAD:
        op = "download";
        target = "object_key";
        break;

    case NGX_HTTP_ENCONVERT_OP_WHOAMI:
        op = "whoami";
        target = NULL;
        break;

    case NGX_HTTP_ENCONVERT_OP_VERIFY:
        op = "verify";
        target = NULL;
        break;

    default:
        op = "status";
        target = "job_id";
    }

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

    if (msgpack_pack_map(&pk, target ? 6 : 5) != 0
        || ngx_http_enconvert_pack_str(&pk, "v") != 0
        || msgpack_pack_uint64(&pk, NGX_HTTP_ENCONVERT_PROTO_VERSION) != 0
        || ngx_http_enconvert_pack_str(&pk, "id") != 0
        || msgpack_pack_uint64(&pk, id) != 0
        || ngx_http_enconvert_pack_str(&pk, "op") != 0
        || ngx_http_enconvert_pack_str(&pk, op) != 0
        || ngx_http_enconvert_pack_str(&pk, "key") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, &ctx->api_key) != 0
        || ngx_http_enconvert_pack_str(&pk, "base_url") != 0
        || ngx_http_enconvert_pack_ngx_str(&pk, &base_url) != 0)
    {
        goto failed;
    }

    if (target
        && (ngx_http_enconvert_pack_str(&pk, target) != 0
            || ngx_http_enconvert_pack_ngx_str(&pk, job_id) != 0))
    {
        goto failed;
    }

    return ngx_http_enconvert_sbuf_to_pool(r, &sbuf, out);

failed:

    msgpack_sbuffer_destroy(&sbuf);
    return NGX_ERROR;
}


/*
 * The endpoint bits of a convert route (NGX_HTTP_ENCONVERT_PDF or SHOT, and
 * WEBSITE), from its name: url-to-pdf, url-to-screenshot, website-to-pdf,
 * website-to-screenshot.
 */

static ngx_uint_t
ngx_http_enconvert_endpoint_fields(ngx_str_t *endpoint)
{
    ngx_uint_t  fields;

    fields = (endpoint->len > sizeof("-pdf") - 1
              && ngx_strncmp(endpoint->data + endpoint->len
                             - (sizeof("-pdf") - 1), "-pdf",
                             sizeof("-pdf") - 1) == 0)
             ? NGX_HTTP_ENCONVERT_PDF : NGX_HTTP_ENCONVERT_SHOT;

    if (endpoint->len > sizeof("website-") - 1
        && ngx_strncmp(endpoint->data, "website-", sizeof("website-") - 1)
           == 0)
    {
        fields |= NGX_HTTP_ENCONVERT_WEBSITE;
    }

    return fields;
}


/* Idempotency-Key: 1..255 printable ASCII characters, sent once */

static ngx_int_t
ngx_http_enconvert_idempotency_key(ngx_http_request_t *r, ngx_str_t *idem,
    ngx_http_enconvert_error_t *err)
{
    u_char            *p, *last;
    ngx_uint_t         i, n;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;

    ngx_str_null(idem);

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != sizeof("Idempotency-Key") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Idempotency-Key",
                               sizeof("Idempotency-Key") - 1) != 0)
        {
            continue;
        }

        if (n++ == 0) {
            *idem = h[i].value;
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    if (n > 1) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_idempotency_key", "Idempotency-Key",
            "send the Idempotency-Key header only once");
        return NGX_DECLINED;
    }

    last = idem->data + idem->len;

    for (p = idem->data; p < last; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            break;
        }
    }

    if (idem->len == 0 || idem->len > 255 || p != last) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_idempotency_key", "Idempotency-Key",
            "the Idempotency-Key header must be 1 to 255 printable "
            "ASCII characters without spaces");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the body as a JSON object no deeper than 8 levels, else NULL and *err */

static json_t *
ngx_http_enconvert_parse(ngx_http_request_t *r, u_char *body, size_t len,
    ngx_http_enconvert_error_t *err)
{
    json_t        *root;
    json_error_t   jerr;

    if (len == 0) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_json", NULL, "the request body is empty");
        return NULL;
    }

    /*
     * NUL characters (\u0000) inside strings are let through here, so
     * that the field rules reject them naming the field.
     */

    root = json_loadb((const char *) body, len,
                      JSON_REJECT_DUPLICATES|JSON_ALLOW_NUL, &jerr);

    if (root == NULL) {

        switch (json_error_code(&jerr)) {

        case json_error_duplicate_key:
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "duplicate_key", NULL,
                "the request body repeats an object key (%s, at byte %d)",
                jerr.text, jerr.position);
            break;

        case json_error_stack_overflow:
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "nesting_too_deep", NULL,
                "the request body nests deeper than %d levels",
                NGX_HTTP_ENCONVERT_JSON_DEPTH);
            break;

        case json_error_invalid_utf8:
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_json", NULL,
                "the request body is not valid UTF-8 (near byte %d)",
                jerr.position);
            break;

        case json_error_null_byte_in_key:
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_json", NULL,
                "object keys must not contain NUL characters (near byte "
                "%d)", jerr.position);
            break;

        default:
            ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
                "invalid_json", NULL,
                "the request body is not valid JSON: %s (line %d, "
                "column %d)", jerr.text, jerr.line, jerr.column);
        }

        return NULL;
    }

    if (!json_is_object(root)) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "invalid_json", NULL, "the request body must be a JSON object");
        goto failed;
    }

    if (ngx_http_enconvert_depth(root) > NGX_HTTP_ENCONVERT_JSON_DEPTH) {
        ngx_http_enconvert_set_error(r, err, NGX_HTTP_BAD_REQUEST,
            "nesting_too_deep", NULL,
            "the request body nests deeper than %d levels",
            NGX_HTTP_ENCONVERT_JSON_DEPTH);
        goto failed;
    }

    return root;

failed:

    json_decref(root);
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


/*
 * The base of the presigned links the worker builds when it has no
 * public_url: scheme, host and port the client used -- but the host only
 * if it is one of this server's server_name entries, never whatever a
 * client puts in Host (a forged Host would otherwise end up in the links
 * of the answer, the status, the webhook and the e-mail).  Otherwise the
 * server's first server_name, else the address the connection came in on.
 */

static ngx_int_t
ngx_http_enconvert_base_url(ngx_http_request_t *r, ngx_str_t *out)
{
    u_char                    *p, *port;
    size_t                     port_len;
    ngx_int_t                  n;
    ngx_str_t                  scheme, *host, name, authority;
    ngx_uint_t                 i, default_port, local_port;
    ngx_http_core_srv_conf_t  *cscf;
    u_char                     addr[NGX_SOCKADDR_STRLEN];

    ngx_str_set(&scheme, "http://");
    default_port = 80;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
        default_port = 443;
    }
#endif

    port = NULL;
    port_len = 0;
    host = ngx_http_enconvert_named_host(r);

    if (host != NULL) {
        name = *host;
        ngx_http_enconvert_authority(r, &authority);

        /*
         * the client's port, after the name it matched (and the name's
         * trailing dot, which nginx drops from it): a port that can
         * exist, 1..65535 without leading zeros, else none
         */

        i = name.len;

        if (authority.len > i && authority.data[i] == '.') {
            i++;
        }

        if (authority.len > i + 1 && authority.data[i] == ':') {
            port = authority.data + i + 1;
            port_len = authority.len - i - 1;

            n = ngx_atoi(port, port_len);

            if (port_len > 5 || port[0] == '0' || n == NGX_ERROR || n > 65535)
            {
                port = NULL;
                port_len = 0;
            }
        }

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        name = cscf->server_name;

        /* "_", a wildcard or a regex names no host: the address then */

        if (!ngx_http_enconvert_host_name(&name)) {
            name.len = 0;
        }

        if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        if (name.len == 0) {
            p = addr;

            if (r->connection->local_sockaddr->sa_family == AF_INET6) {
                *p++ = '[';
            }

            p += ngx_sock_ntop(r->connection->local_sockaddr,
                               r->connection->local_socklen, p,
                               NGX_SOCKADDR_STRLEN - 2, 0);

            if (r->connection->local_sockaddr->sa_family == AF_INET6) {
                *p++ = ']';
            }

            name.data = addr;
            name.len = p - addr;
        }

        local_port = ngx_inet_get_port(r->connection->local_sockaddr);

        if (local_port != default_port) {
            port = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
            if (port == NULL) {
                return NGX_ERROR;
            }

            port_len = ngx_sprintf(port, "%ui", local_port) - port;
        }
    }

    p = ngx_pnalloc(r->pool, scheme.len + name.len + 1 + port_len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    p = ngx_cpymem(p, scheme.data, scheme.len);
    p = ngx_cpymem(p, name.data, name.len);

    if (port_len) {
        *p++ = ':';
        p = ngx_cpymem(p, port, port_len);
    }

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * The request's host name, lowercased, if it is one this server claims:
 * nginx's own server-name lookup (exact and wildcard server_name entries)
 * finds this very server for it, or, for the only server on its address,
 * it is the server's first server_name.  Otherwise NULL.
 */

static ngx_str_t *
ngx_http_enconvert_named_host(ngx_http_request_t *r)
{
    ngx_str_t                 *host, authority;
    ngx_uint_t                 key;
    ngx_http_connection_t     *hc;
    ngx_http_virtual_names_t  *vn;
    ngx_http_core_srv_conf_t  *cscf;

    if (r->headers_in.host == NULL || r->headers_in.server.len == 0) {
        return NULL;
    }

    hc = r->http_connection;
    vn = hc->addr_conf->virtual_names;
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    host = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (host == NULL) {
        return NULL;
    }

    host->len = r->headers_in.server.len;
    host->data = ngx_pnalloc(r->pool, host->len);
    if (host->data == NULL) {
        return NULL;
    }

    key = ngx_hash_strlow(host->data, r->headers_in.server.data, host->len);

    if (vn != NULL) {
        if (ngx_hash_find_combined(&vn->names, key, host->data, host->len)
            != cscf)
        {
            return NULL;
        }

    } else if (!ngx_http_enconvert_claims_host(r, host)) {
        /*
         * the only server on its address: nginx keeps no name table for
         * it, so its own server_name entries say which names it claims
         */
        return NULL;
    }

    /* the authority starts with that name; a port may follow */

    ngx_http_enconvert_authority(r, &authority);

    if (authority.len < host->len
        || ngx_strncasecmp(authority.data, host->data, host->len) != 0)
    {
        return NULL;
    }

    return host;
}


/*
 * "host[:port]" as the client named it: the request line's for an
 * absolute-form request ("GET http://host:port/path"), which nginx, as
 * RFC 9112 3.2.2 says, takes instead of the Host header; else the Host
 * header's.
 */

static void
ngx_http_enconvert_authority(ngx_http_request_t *r, ngx_str_t *out)
{
    if (r->host_start != NULL && r->host_end != NULL
        && r->uri_start > r->host_start)
    {
        out->data = r->host_start;
        out->len = r->uri_start - r->host_start;
        return;
    }

    *out = r->headers_in.host->value;
}


/*
 * Whether one of the server's server_name entries names `host` (lowercase),
 * as nginx's own name table would: an exact name, "*.example.com" (a
 * subdomain), ".example.com" (the name and its subdomains) or
 * "www.example.*" (any last part).  Regular expressions are left out.
 */

static ngx_uint_t
ngx_http_enconvert_claims_host(ngx_http_request_t *r, ngx_str_t *host)
{
    size_t                          len;
    u_char                         *name;
    ngx_str_t                      *names;
    ngx_uint_t                      i;
    ngx_http_enconvert_srv_conf_t  *escf;

    escf = ngx_http_get_module_srv_conf(r, ngx_http_enconvert_module);

    if (escf->server_names == NULL) {
        return 0;
    }

    names = escf->server_names->elts;

    for (i = 0; i < escf->server_names->nelts; i++) {
        name = names[i].data;
        len = names[i].len;

        if (len == 0) {
            continue;
        }

        if (len > 2 && name[0] == '*' && name[1] == '.') {
            if (host->len > len - 1
                && ngx_strncmp(host->data + host->len - (len - 1), name + 1,
                               len - 1) == 0)
            {
                return 1;
            }

            continue;
        }

        if (len > 1 && name[0] == '.') {
            if ((host->len == len - 1
                 && ngx_strncmp(host->data, name + 1, len - 1) == 0)
                || (host->len > len
                    && ngx_strncmp(host->data + host->len - len, name, len)
                       == 0))
            {
                return 1;
            }

            continue;
        }

        if (len > 2 && name[len - 1] == '*' && name[len - 2] == '.') {
            if (host->len > len - 1
                && ngx_strncmp(host->data, name, len - 1) == 0)
            {
                return 1;
            }

            continue;
        }

        if (host->len == len && ngx_strncmp(host->data, name, len) == 0
            && ngx_http_enconvert_host_name(&names[i]))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether a server_name can stand in a link as a host: letters, digits,
 * "-" and "." (not first), or an IPv6 literal; not "_", a wildcard or a
 * regular expression.
 */

static ngx_uint_t
ngx_http_enconvert_host_name(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->data[0] == '.') {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.'
            || c == '[' || c == ']' || c == ':')
        {
            continue;
        }

        return 0;
    }

    return 1;
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


/*
 * enconvert nginx module: Prometheus metrics (docs/metrics.md).
 *
 * The counters live in a shared memory zone: every worker process adds to
 * the same numbers, and a reload keeps them (the new cycle reuses the zone
 * and the counters in it).  They only change through ngx_atomic_fetch_add()
 * and are read without a lock.
 *
 * Requests are counted in one place, the log phase, by API route and by
 * the status sent: those whose location answers with one of the module's
 * handlers (enconvert_api, enconvert_error, enconvert_rate_limited), nginx's
 * own refusals there included, and those the module redirected to the
 * stored files.  A location with "enconvert_metrics" answers
 *
 *     GET, HEAD  the counters in the text exposition format 0.0.4
 *     others     405 in the API's JSON error shape
 */


#include "ngx_http_enconvert_module.h"


/* statuses 100..599 are counted one by one, any other as "000" */
#define NGX_HTTP_ENCONVERT_STATUS_MIN   100
#define NGX_HTTP_ENCONVERT_STATUS_MAX   599
#define NGX_HTTP_ENCONVERT_NSTATUSES                                          \
    (NGX_HTTP_ENCONVERT_STATUS_MAX - NGX_HTTP_ENCONVERT_STATUS_MIN + 2)


/*
 * The requests in flight are counted per worker process slot: a process
 * that dies with requests in flight takes its count with it (a scrape adds
 * the slots of live processes only, and the process that takes the slot
 * over starts it again from zero).
 */
typedef struct {
    ngx_atomic_t                pid;
    ngx_atomic_t                in_flight;
} ngx_http_enconvert_slot_t;


typedef struct {
    ngx_atomic_t                requests[NGX_HTTP_ENCONVERT_NROUTES]
                                        [NGX_HTTP_ENCONVERT_NSTATUSES];
    ngx_atomic_t                counters[NGX_HTTP_ENCONVERT_NCOUNTERS];
    ngx_http_enconvert_slot_t   slots[NGX_MAX_PROCESSES];
} ngx_http_enconvert_metrics_t;


typedef struct {
    ngx_str_t                   head;         /* "# HELP" and "# TYPE" */
    ngx_str_t                   name;
    ngx_uint_t                  gauge;
} ngx_http_enconvert_metric_t;


static ngx_int_t ngx_http_enconvert_metrics_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_int_t ngx_http_enconvert_metrics_log(ngx_http_request_t *r);
static ngx_uint_t ngx_http_enconvert_metrics_route(ngx_http_request_t *r);
static ngx_pool_cleanup_t *ngx_http_enconvert_metrics_kept(
    ngx_http_request_t *r);
static void ngx_http_enconvert_metrics_route_cleanup(void *data);
static ngx_int_t ngx_http_enconvert_metrics_page(ngx_http_request_t *r,
    ngx_http_enconvert_metrics_t *m, ngx_str_t *page);


#define ngx_http_enconvert_help(name, type, help)                             \
    ngx_string("# HELP " name " " help "\n# TYPE " name " " type "\n")


static ngx_str_t  ngx_http_enconvert_requests_head =
    ngx_http_enconvert_help("enconvert_http_requests_total", "counter",
        "Requests answered by the enconvert module's locations, "
        "by API route and HTTP status.");


/* indexed by ngx_http_enconvert_counter_e */

static ngx_http_enconvert_metric_t  ngx_http_enconvert_counters[] = {

    { ngx_http_enconvert_help("enconvert_backend_timeouts_total", "counter",
          "Requests whose wait for the worker's answer expired."),
      ngx_string("enconvert_backend_timeouts_total"), 0 },

    { ngx_http_enconvert_help("enconvert_backend_unavailable_total",
          "counter",
          "Requests answered 503 because no worker could take them."),
      ngx_string("enconvert_backend_unavailable_total"), 0 },

    { ngx_http_enconvert_help("enconvert_backend_bad_replies_total",
          "counter",
          "Worker replies the module dropped or answered 502 for."),
      ngx_string("enconvert_backend_bad_replies_total"), 0 },

    { ngx_http_enconvert_help("enconvert_backend_requests_in_flight",
          "gauge", "Requests waiting for the worker's answer."),
      ngx_string("enconvert_backend_requests_in_flight"), 1 },

    { ngx_http_enconvert_help("enconvert_status_cache_hits_total",
          "counter",
          "Status requests answered from the status cache zone, "
          "without the worker."),
      ngx_string("enconvert_status_cache_hits_total"), 0 }
};


static ngx_str_t  ngx_http_enconvert_metrics_zone_name =
    ngx_string("enconvert_metrics");


/* called from the main conf's init when a location uses the module */

ngx_int_t
ngx_http_enconvert_metrics_zone(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf)
{
    size_t           size;
    ngx_shm_zone_t  *shm_zone;

    size = 8 * ngx_pagesize
           + ngx_align(sizeof(ngx_http_enconvert_metrics_t), ngx_pagesize);

    shm_zone = ngx_shared_memory_add(cf,
                                     &ngx_http_enconvert_metrics_zone_name,
                                     size, &ngx_http_enconvert_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_enconvert_metrics_init_zone;

    emcf->metrics_zone = shm_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_enconvert_metrics_t  *m;

    if (data) {
        /* a reload reuses the zone: the counters go on */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    m = ngx_slab_calloc(shpool, sizeof(ngx_http_enconvert_metrics_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    shpool->data = m;
    shm_zone->data = m;

    return NGX_OK;
}


/* postconfiguration: the log phase handler, where the zone exists */

ngx_int_t
ngx_http_enconvert_metrics_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt             *h;
    ngx_http_core_main_conf_t       *cmcf;
    ngx_http_enconvert_main_conf_t  *emcf;

    emcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_enconvert_module);

    if (emcf->metrics_zone == NULL) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_enconvert_metrics_log;

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_metrics_log(ngx_http_request_t *r)
{
    ngx_uint_t                       route, status;
    ngx_http_enconvert_metrics_t    *m;
    ngx_http_enconvert_main_conf_t  *emcf;

    if (r != r->main) {
        return NGX_OK;
    }

    route = ngx_http_enconvert_metrics_route(r);

    if (route == NGX_HTTP_ENCONVERT_NROUTES) {
        return NGX_OK;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_enconvert_module);
    m = emcf->metrics_zone->data;

    /* the status the access log records */

    status = r->err_status ? r->err_status : r->headers_out.status;

    if (status < NGX_HTTP_ENCONVERT_STATUS_MIN
        || status > NGX_HTTP_ENCONVERT_STATUS_MAX)
    {
        status = 0;

    } else {
        status -= NGX_HTTP_ENCONVERT_STATUS_MIN - 1;
    }

    (void) ngx_atomic_fetch_add(&m->requests[route][status], 1);

    return NGX_OK;
}


/* NGX_HTTP_ENCONVERT_NROUTES: not a request the module counts */

static ngx_uint_t
ngx_http_enconvert_metrics_route(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_core_loc_conf_t  *clcf;

    if (r->internal) {
        cln = ngx_http_enconvert_metrics_kept(r);

        if (cln) {
            return *(ngx_uint_t *) cln->data;
        }
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->handler == ngx_http_enconvert_handler
        || clcf->handler == ngx_http_enconvert_nginx_error
        || clcf->handler == ngx_http_enconvert_rate_limited)
    {
        /* a named location keeps the URI of the API's request */
        return ngx_http_enconvert_route(&r->uri, NULL);
    }

    return NGX_HTTP_ENCONVERT_NROUTES;
}


/*
 * Before the module redirects a request to a location that is not its own
 * (a stored file), it keeps the route of the URI where the log phase finds
 * it: module contexts are cleared by a redirect, the request pool's
 * cleanups are not (as ngx_http_realip_module keeps the client address).
 * An error page reached through a URI keeps the route of the path the
 * client sent the same way.
 */

ngx_int_t
ngx_http_enconvert_metrics_keep_route(ngx_http_request_t *r, ngx_str_t *uri)
{
    ngx_pool_cleanup_t  *cln;

    if (r != r->main || ngx_http_enconvert_metrics_kept(r) != NULL) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_uint_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    *(ngx_uint_t *) cln->data = ngx_http_enconvert_route(uri, NULL);
    cln->handler = ngx_http_enconvert_metrics_route_cleanup;

    return NGX_OK;
}


static ngx_pool_cleanup_t *
ngx_http_enconvert_metrics_kept(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_enconvert_metrics_route_cleanup) {
            return cln;
        }
    }

    return NULL;
}


/* nothing to release: the handler only marks the entry that keeps a route */

static void
ngx_http_enconvert_metrics_route_cleanup(void *data)
{
}


static ngx_http_enconvert_metrics_t *
ngx_http_enconvert_metrics_get(void)
{
    ngx_http_enconvert_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_enconvert_module);

    if (emcf == NULL || emcf->metrics_zone == NULL) {
        return NULL;
    }

    return emcf->metrics_zone->data;
}


void
ngx_http_enconvert_metrics_count(ngx_uint_t counter, ngx_int_t n)
{
    ngx_http_enconvert_metrics_t  *m;

    m = ngx_http_enconvert_metrics_get();
    if (m == NULL) {
        return;
    }

    if (counter == NGX_HTTP_ENCONVERT_IN_FLIGHT) {
        (void) ngx_atomic_fetch_add(&m->slots[ngx_process_slot].in_flight,
                                    n);
        return;
    }

    (void) ngx_atomic_fetch_add(&m->counters[counter], n);
}


/* a worker process taking a slot: whatever its last owner left is gone */

void
ngx_http_enconvert_metrics_init_process(void)
{
    ngx_http_enconvert_metrics_t  *m;

    m = ngx_http_enconvert_metrics_get();
    if (m == NULL) {
        return;
    }

    m->slots[ngx_process_slot].in_flight = 0;
    m->slots[ngx_process_slot].pid = (ngx_atomic_uint_t) ngx_pid;
}


/* the requests in flight of the processes alive now */

static ngx_atomic_uint_t
ngx_http_enconvert_metrics_in_flight(ngx_http_enconvert_metrics_t *m)
{
    ngx_uint_t          i;
    ngx_pid_t           pid;
    ngx_atomic_uint_t   n, sum;

    sum = 0;

    for (i = 0; i < NGX_MAX_PROCESSES; i++) {
        n = m->slots[i].in_flight;
        pid = (ngx_pid_t) m->slots[i].pid;

        if (n == 0 || pid <= 0) {
            continue;
        }

        if (pid != ngx_pid && kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
            continue;
        }

        sum += n;
    }

    return sum;
}


ngx_int_t
ngx_http_enconvert_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_buf_t                       *b;
    ngx_str_t                        page;
    ngx_chain_t                      out;
    ngx_http_enconvert_main_conf_t  *emcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_enconvert_method_not_allowed(r, "GET, HEAD");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_enconvert_module);

    if (ngx_http_enconvert_metrics_page(r, emcf->metrics_zone->data, &page)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = page.len;

    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");

    /* the type has its parameters: the charset filter adds none */
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = page.data;
    b->last = page.data + page.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_enconvert_metrics_page(ngx_http_request_t *r,
    ngx_http_enconvert_metrics_t *m, ngx_str_t *page)
{
    u_char                        *p;
    size_t                         len;
    ngx_uint_t                     i, j, status;
    ngx_http_enconvert_metric_t   *c;
    ngx_http_enconvert_metrics_t  *snap;

    /* one reading of each counter: they move while the page is written */

    snap = ngx_palloc(r->pool, sizeof(ngx_http_enconvert_metrics_t));
    if (snap == NULL) {
        return NGX_ERROR;
    }

    len = ngx_http_enconvert_requests_head.len;

    for (i = 0; i < NGX_HTTP_ENCONVERT_NROUTES; i++) {
        for (j = 0; j < NGX_HTTP_ENCONVERT_NSTATUSES; j++) {
            snap->requests[i][j] = m->requests[i][j];

            if (snap->requests[i][j]) {
                len += sizeof("enconvert_http_requests_total{route=\"\","
                              "status=\"000\"} \n") - 1
                       + ngx_http_enconvert_route_names[i].len
                       + NGX_ATOMIC_T_LEN;
            }
        }
    }

    c = ngx_http_enconvert_counters;

    for (i = 0; i < NGX_HTTP_ENCONVERT_NCOUNTERS; i++) {
        snap->counters[i] = (i == NGX_HTTP_ENCONVERT_IN_FLIGHT)
                            ? ngx_http_enconvert_metrics_in_flight(m)
                            : m->counters[i];

        len += c[i].head.len + c[i].name.len
               + sizeof(" \n") - 1 + NGX_ATOMIC_T_LEN;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    page->data = p;

    p = ngx_cpymem(p, ngx_http_enconvert_requests_head.data,
                   ngx_http_enconvert_requests_head.len);

    for (i = 0; i < NGX_HTTP_ENCONVERT_NROUTES; i++) {
        for (j = 0; j < NGX_HTTP_ENCONVERT_NSTATUSES; j++) {

            if (snap->requests[i][j] == 0) {
                continue;
            }

            status = j ? j + NGX_HTTP_ENCONVERT_STATUS_MIN - 1 : 0;

            p = ngx_sprintf(p, "enconvert_http_requests_total"
                               "{route=\"%V\",status=\"%03ui\"} %uA\n",
                            &ngx_http_enconvert_route_names[i], status,
                            snap->requests[i][j]);
        }
    }

    for (i = 0; i < NGX_HTTP_ENCONVERT_NCOUNTERS; i++) {
        p = ngx_cpymem(p, c[i].head.data, c[i].head.len);

        if (c[i].gauge) {
            p = ngx_sprintf(p, "%V %A\n", &c[i].name,
                            (ngx_atomic_int_t) snap->counters[i]);

        } else {
            p = ngx_sprintf(p, "%V %uA\n", &c[i].name, snap->counters[i]);
        }
    }

    page->len = p - page->data;

    return NGX_OK;
}


/*
 * enconvert nginx module: shared types and prototypes.
 */


#ifndef _NGX_HTTP_ENCONVERT_MODULE_H_INCLUDED_
#define _NGX_HTTP_ENCONVERT_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>
#include <msgpack.h>
#include <zmq.h>

#include "ngx_http_enconvert_field_limits.h"


#define NGX_HTTP_ENCONVERT_PROTO_VERSION  1

#define NGX_HTTP_ENCONVERT_KEY_MIN        40
#define NGX_HTTP_ENCONVERT_KEY_MAX        128
#define NGX_HTTP_ENCONVERT_URL_MAX        2048
#define NGX_HTTP_ENCONVERT_JSON_DEPTH     8
#define NGX_HTTP_ENCONVERT_FIELD_MAX      256
#define NGX_HTTP_ENCONVERT_HEALTH_WAIT    2000
#define NGX_HTTP_ENCONVERT_CURVE_KEY_LEN  40        /* Z85 */
#define NGX_HTTP_ENCONVERT_SIGNATURE_LEN  32        /* HMAC-SHA256 */
#define NGX_HTTP_ENCONVERT_SECRET_MIN     32        /* bytes, RFC 2104 */
#define NGX_HTTP_ENCONVERT_STATUS_CACHE_SIZE  (8 * 1024 * 1024)


#define ngx_http_enconvert_isalnum(c)                                         \
    (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z')                 \
     || ((c) >= 'A' && (c) <= 'Z'))


typedef enum {
    NGX_HTTP_ENCONVERT_OP_CONVERT = 0,
    NGX_HTTP_ENCONVERT_OP_STATUS,
    NGX_HTTP_ENCONVERT_OP_HEALTH,
    NGX_HTTP_ENCONVERT_OP_BATCH,
    NGX_HTTP_ENCONVERT_OP_DOWNLOAD,
    NGX_HTTP_ENCONVERT_OP_WHOAMI,
    NGX_HTTP_ENCONVERT_OP_VERIFY
} ngx_http_enconvert_op_e;


/*
 * the API's routes, as ngx_http_enconvert_route() finds them; the convert
 * routes come first
 */
typedef enum {
    NGX_HTTP_ENCONVERT_ROUTE_PDF = 0,
    NGX_HTTP_ENCONVERT_ROUTE_SHOT,
    NGX_HTTP_ENCONVERT_ROUTE_SITE_PDF,
    NGX_HTTP_ENCONVERT_ROUTE_SITE_SHOT,
    NGX_HTTP_ENCONVERT_ROUTE_STATUS,
    NGX_HTTP_ENCONVERT_ROUTE_FILES,
    NGX_HTTP_ENCONVERT_ROUTE_HEALTH,
    NGX_HTTP_ENCONVERT_ROUTE_BATCH,
    NGX_HTTP_ENCONVERT_ROUTE_DOWNLOAD,
    NGX_HTTP_ENCONVERT_ROUTE_WHOAMI,
    NGX_HTTP_ENCONVERT_ROUTE_VERIFY,
    NGX_HTTP_ENCONVERT_ROUTE_LIVENESS,
    NGX_HTTP_ENCONVERT_ROUTE_OTHER,
    NGX_HTTP_ENCONVERT_NROUTES
} ngx_http_enconvert_route_e;

#define NGX_HTTP_ENCONVERT_NCONVERTS  (NGX_HTTP_ENCONVERT_ROUTE_SITE_SHOT + 1)


/* backend counters of the metrics zone */
typedef enum {
    NGX_HTTP_ENCONVERT_TIMEOUTS = 0,
    NGX_HTTP_ENCONVERT_UNAVAILABLE,
    NGX_HTTP_ENCONVERT_BAD_REPLIES,
    NGX_HTTP_ENCONVERT_IN_FLIGHT,
    NGX_HTTP_ENCONVERT_STATUS_CACHE_HITS,
    NGX_HTTP_ENCONVERT_NCOUNTERS
} ngx_http_enconvert_counter_e;


typedef struct {
    ngx_array_t                *backends;     /* of ngx_str_t */
    ngx_str_t                   secret;
    ngx_flag_t                  api_used;
    ngx_flag_t                  handler_used; /* any location answers */
    ngx_shm_zone_t             *metrics_zone;
    size_t                      status_cache_size;  /* 0: no cache */
    ngx_shm_zone_t             *status_cache_zone;

    /* CURVE keys, Z85 and null-terminated; empty: no CURVE */
    ngx_str_t                   curve_server_key;
    ngx_str_t                   curve_public_key;
    ngx_str_t                   curve_secret_key;
    ngx_flag_t                  allow_plain_tcp;
    ngx_msec_t                  heartbeat_interval;
    ngx_msec_t                  heartbeat_timeout;
} ngx_http_enconvert_main_conf_t;


/* per server {} */
typedef struct {
    ngx_array_t                *api_locations; /* of core loc confs */
    ngx_array_t                *server_names;  /* of ngx_str_t, lowercase */
} ngx_http_enconvert_srv_conf_t;


typedef struct {
    ngx_flag_t                  api;
    ngx_msec_t                  timeout;
    ngx_msec_t                  sync_timeout;
    ngx_int_t                   max_urls;
    size_t                      max_body_size;
    ngx_str_t                   files_location;
} ngx_http_enconvert_loc_conf_t;


/*
 * One endpoint of enconvert_backend, per nginx worker process: its own
 * DEALER socket, so the module knows which worker each request went to and
 * can answer the requests of a worker whose connection is lost at once.
 */
typedef struct {
    ngx_str_t                   endpoint;
    void                       *sock;         /* DEALER */
    void                       *monitor;      /* PAIR: connection events */
    ngx_connection_t           *conn;         /* ZMQ_FD of sock */
    ngx_connection_t           *monitor_conn; /* ZMQ_FD of monitor */
    ngx_queue_t                 pending;      /* requests sent here */
    ngx_uint_t                  index;
    ngx_uint_t                  generation;   /* sockets renewed so far */
    unsigned                    connected:1;
    unsigned                    ended:1;      /* its end not yet settled */
    unsigned                    handshake_failed:1;
} ngx_http_enconvert_peer_t;


/* per request state, allocated from r->pool */
typedef struct {
    ngx_rbtree_node_t           node;         /* key = request id */
    ngx_queue_t                 queue;        /* in its peer's pending */
    ngx_http_enconvert_peer_t  *peer;
    ngx_str_t                   msg;          /* as sent, for a re-send */
    ngx_http_request_t         *request;
    ngx_event_t                 timer;
    ngx_msec_t                  start;
    ngx_msec_t                  sync_timeout;
    ngx_str_t                   job_id;       /* from "accepted" */
    ngx_str_t                   notice;       /* from "accepted" too */
    ngx_str_t                   target;       /* the id or key asked for */
    ngx_str_t                   api_key;
    ngx_str_t                   endpoint;
    ngx_uint_t                  op;           /* ngx_http_enconvert_op_e */
    /* a refusal sent only once the worker knows the key (refusal.c) */
    struct ngx_http_enconvert_error_s  *refusal;
    unsigned                    pending:1;
    unsigned                    sync:1;
    unsigned                    idempotent:1; /* safe to send again */
    unsigned                    website:1;    /* a website capture */
    unsigned                    client_id:1;  /* the body named a job_id */
} ngx_http_enconvert_ctx_t;


/* a validation or routing error answered by the module itself */
typedef struct ngx_http_enconvert_error_s {
    ngx_uint_t                  status;
    const char                 *code;
    ngx_str_t                   detail;
    ngx_str_t                   field;
} ngx_http_enconvert_error_t;


extern ngx_module_t  ngx_http_enconvert_module;
extern ngx_str_t     ngx_http_enconvert_route_names[];


/*
 * endpoints a body field applies to: a field of these bits is taken by
 * the convert routes that have all of them (url-to-pdf: PDF, website-to-pdf:
 * PDF|WEBSITE, ...); ALL, no bit, by every one
 */
#define NGX_HTTP_ENCONVERT_ALL        0
#define NGX_HTTP_ENCONVERT_PDF        1
#define NGX_HTTP_ENCONVERT_SHOT       2
#define NGX_HTTP_ENCONVERT_WEBSITE    4


/* ngx_http_enconvert_module.c */
ngx_int_t ngx_http_enconvert_handler(ngx_http_request_t *r);
ngx_uint_t ngx_http_enconvert_route(ngx_str_t *uri, ngx_str_t *rest);
ngx_int_t ngx_http_enconvert_for_api(ngx_http_request_t *r,
    ngx_str_t *path);
ngx_http_enconvert_ctx_t *ngx_http_enconvert_create_ctx(
    ngx_http_request_t *r, ngx_uint_t op);
ngx_int_t ngx_http_enconvert_ask_worker(ngx_http_request_t *r, ngx_uint_t op,
    ngx_str_t *key, ngx_str_t *target);

/* ngx_http_enconvert_lookup.c */
ngx_int_t ngx_http_enconvert_lookup(ngx_http_request_t *r, ngx_uint_t op,
    ngx_str_t *target);
ngx_int_t ngx_http_enconvert_liveness(ngx_http_request_t *r);

/* ngx_http_enconvert_refusal.c */
ngx_int_t ngx_http_enconvert_refuse(ngx_http_request_t *r, ngx_str_t *key,
    ngx_http_enconvert_error_t *err, ngx_uint_t body_read);
ngx_int_t ngx_http_enconvert_refusal_reply(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_uint_t status);

/* ngx_http_enconvert_job_id.c */
ngx_int_t ngx_http_enconvert_valid_job_id(ngx_str_t *id);
ngx_int_t ngx_http_enconvert_take_job_id(ngx_http_request_t *r,
    json_t *root, json_t **job_id, ngx_http_enconvert_error_t *err);
ngx_int_t ngx_http_enconvert_check_modes(ngx_http_request_t *r,
    json_t *root, ngx_uint_t endpoint, ngx_http_enconvert_error_t *err);

/* ngx_http_enconvert_auth.c */
ngx_int_t ngx_http_enconvert_auth(ngx_http_request_t *r, ngx_str_t *key,
    ngx_http_enconvert_error_t *err);
ngx_int_t ngx_http_enconvert_presented_key(ngx_http_request_t *r,
    ngx_str_t *key);
ngx_table_elt_t *ngx_http_enconvert_find_header(ngx_http_request_t *r,
    const char *name, size_t len);
char *ngx_http_enconvert_read_conf_file(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file, ngx_str_t *out);

/* ngx_http_enconvert_backend.c */
ngx_int_t ngx_http_enconvert_backend_init(ngx_cycle_t *cycle,
    ngx_http_enconvert_main_conf_t *emcf);
void ngx_http_enconvert_backend_exit(ngx_cycle_t *cycle);
uint64_t ngx_http_enconvert_backend_next_id(void);
ngx_int_t ngx_http_enconvert_backend_send(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, u_char *data, size_t len,
    ngx_msec_t timeout);
void ngx_http_enconvert_backend_finish(ngx_http_enconvert_ctx_t *ctx);
ngx_http_enconvert_ctx_t *ngx_http_enconvert_backend_lookup(uint64_t id);
void ngx_http_enconvert_backend_rearm(ngx_http_enconvert_ctx_t *ctx,
    ngx_msec_t timeout);
void ngx_http_enconvert_backend_lost(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log);
void ngx_http_enconvert_backend_stopping(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log);
ngx_connection_t *ngx_http_enconvert_backend_watch(ngx_cycle_t *cycle,
    void *sock, ngx_event_handler_pt handler, void *data);
void ngx_http_enconvert_backend_release(ngx_connection_t *c);
ngx_int_t ngx_http_enconvert_backend_recv(void *sock, zmq_msg_t *msg,
    ngx_log_t *log);
void ngx_http_enconvert_backend_drop_rest(void *sock);

/* ngx_http_enconvert_monitor.c */
ngx_int_t ngx_http_enconvert_monitor_init(ngx_cycle_t *cycle, void *zctx,
    ngx_http_enconvert_peer_t *peer);
void ngx_http_enconvert_monitor_exit(ngx_http_enconvert_peer_t *peer);
ngx_int_t ngx_http_enconvert_monitor_sync(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log);

/* ngx_http_enconvert_curve.c */
char *ngx_http_enconvert_curve_server_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_enconvert_curve_client_key_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_enconvert_check_heartbeat(ngx_conf_t *cf, void *post,
    void *data);
ngx_int_t ngx_http_enconvert_check_endpoint(ngx_str_t *ep);
char *ngx_http_enconvert_curve_check(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf);
ngx_int_t ngx_http_enconvert_peer_options(
    ngx_http_enconvert_main_conf_t *emcf, ngx_http_enconvert_peer_t *peer);

/* ngx_http_enconvert_request.c */
ngx_int_t ngx_http_enconvert_build_convert(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *endpoint, u_char *body,
    size_t len, ngx_str_t *out, ngx_http_enconvert_error_t *err);
ngx_int_t ngx_http_enconvert_build_simple(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, ngx_str_t *job_id, ngx_str_t *out);

/* ngx_http_enconvert_fields.c */
ngx_int_t ngx_http_enconvert_check_body(ngx_http_request_t *r,
    json_t *root, ngx_uint_t endpoint, ngx_http_enconvert_error_t *err);

/* ngx_http_enconvert_url.c */
ngx_int_t ngx_http_enconvert_check_url(ngx_http_request_t *r, json_t *s,
    ngx_uint_t https_only, const char **problem);
ngx_int_t ngx_http_enconvert_check_email(ngx_http_request_t *r, json_t *s,
    const char **problem);

/* ngx_http_enconvert_variables.c */
ngx_int_t ngx_http_enconvert_add_variables(ngx_conf_t *cf);

/* ngx_http_enconvert_reply.c */
void ngx_http_enconvert_handle_reply(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log, u_char *data, size_t len);
void ngx_http_enconvert_timeout_handler(ngx_event_t *ev);
ngx_int_t ngx_http_enconvert_lost(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx);
ngx_int_t ngx_http_enconvert_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);
ngx_int_t ngx_http_enconvert_send_error(ngx_http_request_t *r,
    ngx_http_enconvert_error_t *err);
ngx_int_t ngx_http_enconvert_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *detail,
    const char *field);
ngx_int_t ngx_http_enconvert_rate_limited(ngx_http_request_t *r);
ngx_int_t ngx_http_enconvert_add_header(ngx_http_request_t *r,
    const u_char *key, size_t key_len, const u_char *value,
    size_t value_len);
ngx_int_t ngx_http_enconvert_no_store(ngx_http_request_t *r);
ngx_int_t ngx_http_enconvert_nginx_error(ngx_http_request_t *r);
ngx_int_t ngx_http_enconvert_unavailable(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx);
ngx_int_t ngx_http_enconvert_method_not_allowed(ngx_http_request_t *r,
    const char *allow);
void ngx_http_enconvert_set_error(ngx_http_request_t *r,
    ngx_http_enconvert_error_t *err, ngx_uint_t status, const char *code,
    const char *field, const char *fmt, ...);

/* ngx_http_enconvert_files.c */
ngx_int_t ngx_http_enconvert_files(ngx_http_request_t *r, ngx_str_t *key);
ngx_int_t ngx_http_enconvert_valid_object_key(ngx_str_t *key);
ngx_int_t ngx_http_enconvert_sha256(ngx_log_t *log, u_char *data, size_t len,
    u_char *md);
ngx_int_t ngx_http_enconvert_hmac_sha256(ngx_log_t *log, ngx_str_t *secret,
    u_char *msg, size_t len, u_char *mac);
void ngx_http_enconvert_digest_exit(void);
u_char *ngx_http_enconvert_sign(ngx_http_request_t *r, ngx_str_t *key,
    time_t expires, u_char *dst);
ngx_int_t ngx_http_enconvert_redirect(ngx_http_request_t *r,
    ngx_str_t *key);

/* ngx_http_enconvert_status_cache.c */
ngx_int_t ngx_http_enconvert_status_cache_zone(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf);
ngx_int_t ngx_http_enconvert_status_cache_answer(ngx_http_request_t *r,
    ngx_str_t *api_key, ngx_str_t *job_id);
void ngx_http_enconvert_status_cache_store(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, msgpack_object *hint,
    ngx_str_t *body);

/* ngx_http_enconvert_metrics.c */
ngx_int_t ngx_http_enconvert_metrics_zone(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf);
ngx_int_t ngx_http_enconvert_metrics_init(ngx_conf_t *cf);
ngx_int_t ngx_http_enconvert_metrics_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_enconvert_metrics_keep_route(ngx_http_request_t *r,
    ngx_str_t *uri);
void ngx_http_enconvert_metrics_count(ngx_uint_t counter, ngx_int_t n);
void ngx_http_enconvert_metrics_init_process(void);


#endif /* _NGX_HTTP_ENCONVERT_MODULE_H_INCLUDED_ */

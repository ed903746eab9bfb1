
/*
 * enconvert nginx module: the per-process ZeroMQ DEALER socket, its file
 * descriptor in nginx's event loop, and the table of requests waiting for
 * a reply.
 *
 * ZMQ_FD is edge-triggered: it signals that ZMQ_EVENTS may have changed.
 * The socket is drained on every wakeup and after every send (the read
 * event is posted), in bounded batches.
 */


#include "ngx_http_enconvert_module.h"

#include <zmq.h>


#define NGX_HTTP_ENCONVERT_BATCH   64


static void ngx_http_enconvert_backend_read(ngx_event_t *rev);
static void ngx_http_enconvert_backend_drop_rest(ngx_log_t *log);


static void               *ngx_http_enconvert_zctx;
static void               *ngx_http_enconvert_zsock;
static ngx_connection_t   *ngx_http_enconvert_zconn;
static uint64_t            ngx_http_enconvert_id;

static ngx_rbtree_t        ngx_http_enconvert_pending;
static ngx_rbtree_node_t   ngx_http_enconvert_sentinel;


ngx_int_t
ngx_http_enconvert_backend_init(ngx_cycle_t *cycle,
    ngx_http_enconvert_main_conf_t *emcf)
{
    int                 opt;
    size_t              optlen;
    int64_t             maxmsg;
    ngx_str_t          *ep;
    ngx_uint_t          i;
    ngx_socket_t        fd;
    ngx_connection_t   *c;

    ngx_rbtree_init(&ngx_http_enconvert_pending,
                    &ngx_http_enconvert_sentinel,
                    ngx_rbtree_insert_value);

    ngx_http_enconvert_id = (uint64_t) ngx_pid << 32;

    ngx_http_enconvert_zctx = zmq_ctx_new();
    if (ngx_http_enconvert_zctx == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno,
                      "enconvert: zmq_ctx_new() failed");
        return NGX_ERROR;
    }

    ngx_http_enconvert_zsock = zmq_socket(ngx_http_enconvert_zctx,
                                          ZMQ_DEALER);
    if (ngx_http_enconvert_zsock == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno,
                      "enconvert: zmq_socket() failed: %s",
                      zmq_strerror(errno));
        goto failed;
    }

    opt = 1;
    if (zmq_setsockopt(ngx_http_enconvert_zsock, ZMQ_IMMEDIATE, &opt,
                       sizeof(int)) == -1)
    {
        goto sockopt_failed;
    }

    opt = 0;
    if (zmq_setsockopt(ngx_http_enconvert_zsock, ZMQ_LINGER, &opt,
                       sizeof(int)) == -1)
    {
        goto sockopt_failed;
    }

    opt = 10000;
    if (zmq_setsockopt(ngx_http_enconvert_zsock, ZMQ_SNDHWM, &opt,
                       sizeof(int)) == -1
        || zmq_setsockopt(ngx_http_enconvert_zsock, ZMQ_RCVHWM, &opt,
                          sizeof(int)) == -1)
    {
        goto sockopt_failed;
    }

    opt = 1000;
    if (zmq_setsockopt(ngx_http_enconvert_zsock, ZMQ_RECONNECT_IVL_MAX,
                       &opt, sizeof(int)) == -1)
    {
        goto sockopt_failed;
    }

    maxmsg = 64 * 1024 * 1024;
    if (zmq_setsockopt(ngx_http_enconvert_zsock, ZMQ_MAXMSGSIZE, &maxmsg,
                       sizeof(int64_t)) == -1)
    {
        goto sockopt_failed;
    }

    ep = emcf->backends->elts;

    for (i = 0; i < emcf->backends->nelts; i++) {
        if (zmq_connect(ngx_http_enconvert_zsock, (char *) ep[i].data) == -1)
        {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "enconvert: zmq_connect(\"%V\") failed: %s",
                          &ep[i], zmq_strerror(errno));
            goto failed;
        }
    }

    optlen = sizeof(ngx_socket_t);
    if (zmq_getsockopt(ngx_http_enconvert_zsock, ZMQ_FD, &fd, &optlen) == -1)
    {
        goto sockopt_failed;
    }

    c = ngx_get_connection(fd, cycle->log);
    if (c == NULL) {
        goto failed;
    }

    c->read->handler = ngx_http_enconvert_backend_read;
    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->data = NULL;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_CLEAR_EVENT) != NGX_OK) {
        ngx_free_connection(c);
        goto failed;
    }

    ngx_http_enconvert_zconn = c;

    return NGX_OK;

sockopt_failed:

    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "enconvert: zmq socket option failed: %s",
                  zmq_strerror(errno));

failed:

    if (ngx_http_enconvert_zsock) {
        zmq_close(ngx_http_enconvert_zsock);
        ngx_http_enconvert_zsock = NULL;
    }

    zmq_ctx_term(ngx_http_enconvert_zctx);
    ngx_http_enconvert_zctx = NULL;

    return NGX_ERROR;
}


void
ngx_http_enconvert_backend_exit(ngx_cycle_t *cycle)
{
    ngx_connection_t  *c;

    /*
     * The descriptor belongs to zmq: it is not closed here, and the
     * connection is not released through ngx_close_connection().
     */

    c = ngx_http_enconvert_zconn;

    if (c) {
        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }

        /* not an open socket of nginx's: no "open socket left" alert */

        c->fd = (ngx_socket_t) -1;
        ngx_free_connection(c);

        ngx_http_enconvert_zconn = NULL;
    }

    if (ngx_http_enconvert_zsock) {
        zmq_close(ngx_http_enconvert_zsock);
        ngx_http_enconvert_zsock = NULL;
    }

    if (ngx_http_enconvert_zctx) {
        zmq_ctx_term(ngx_http_enconvert_zctx);
        ngx_http_enconvert_zctx = NULL;
    }
}


uint64_t
ngx_http_enconvert_backend_next_id(void)
{
    return ++ngx_http_enconvert_id;
}


/*
 * NGX_OK: sent, the request now waits for its reply or its timer.
 * NGX_BUSY: no live backend could take the message (answer 503).
 */

ngx_int_t
ngx_http_enconvert_backend_send(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, u_char *data, size_t len,
    ngx_msec_t timeout)
{
    int         n, err;
    ngx_uint_t  level;

    if (ngx_http_enconvert_zsock == NULL) {
        return NGX_BUSY;
    }

    do {
        n = zmq_send(ngx_http_enconvert_zsock, data, len, ZMQ_DONTWAIT);
        err = errno;
    } while (n == -1 && err == EINTR);

    /* sending may have consumed the edge of a pending reply */

    ngx_post_event(ngx_http_enconvert_zconn->read, &ngx_posted_events);

    if (n == -1) {
        level = (err == EAGAIN) ? NGX_LOG_WARN : NGX_LOG_ERR;

        ngx_log_error(level, r->connection->log, 0,
                      "enconvert: backend unavailable: %s",
                      zmq_strerror(err));
        return NGX_BUSY;
    }

    ngx_rbtree_insert(&ngx_http_enconvert_pending, &ctx->node);
    ctx->pending = 1;
    ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_IN_FLIGHT, 1);

    ctx->timer.handler = ngx_http_enconvert_timeout_handler;
    ctx->timer.data = ctx;
    ctx->timer.log = r->connection->log;

    ngx_add_timer(&ctx->timer, timeout);

    /* notice a client that goes away while we wait */

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "enconvert: sent request %uL, %uz bytes",
                   (uint64_t) ctx->node.key, len);

    return NGX_OK;
}


void
ngx_http_enconvert_backend_finish(ngx_http_enconvert_ctx_t *ctx)
{
    if (ctx->pending) {
        ngx_rbtree_delete(&ngx_http_enconvert_pending, &ctx->node);
        ctx->pending = 0;
        ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_IN_FLIGHT, -1);
    }

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->timer.posted) {
        ngx_delete_posted_event(&ctx->timer);
    }
}


void
ngx_http_enconvert_backend_rearm(ngx_http_enconvert_ctx_t *ctx,
    ngx_msec_t timeout)
{
    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    ngx_add_timer(&ctx->timer, timeout);
}


ngx_http_enconvert_ctx_t *
ngx_http_enconvert_backend_lookup(uint64_t id)
{
    ngx_rbtree_key_t    key;
    ngx_rbtree_node_t  *node, *sentinel;

    key = (ngx_rbtree_key_t) id;
    node = ngx_http_enconvert_pending.root;
    sentinel = ngx_http_enconvert_pending.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        return (ngx_http_enconvert_ctx_t *) node;
    }

    return NULL;
}


static void
ngx_http_enconvert_backend_read(ngx_event_t *rev)
{
    int         events, rc, err;
    size_t      optlen;
    ngx_uint_t  n;
    zmq_msg_t   msg;

    if (ngx_http_enconvert_zsock == NULL) {
        return;
    }

    for (n = 0; n < NGX_HTTP_ENCONVERT_BATCH; n++) {

        optlen = sizeof(int);

        if (zmq_getsockopt(ngx_http_enconvert_zsock, ZMQ_EVENTS, &events,
                           &optlen) == -1)
        {
            if (errno == EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, rev->log, 0,
                          "enconvert: zmq ZMQ_EVENTS failed: %s",
                          zmq_strerror(errno));
            return;
        }

        if (!(events & ZMQ_POLLIN)) {
            return;
        }

        zmq_msg_init(&msg);

        rc = zmq_msg_recv(&msg, ngx_http_enconvert_zsock, ZMQ_DONTWAIT);

        if (rc == -1) {
            err = errno;
            zmq_msg_close(&msg);

            if (err == EAGAIN) {
                return;
            }

            if (err == EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, rev->log, 0,
                          "enconvert: zmq_msg_recv() failed: %s",
                          zmq_strerror(err));
            return;
        }

        if (zmq_msg_more(&msg)) {
            ngx_log_error(NGX_LOG_ERR, rev->log, 0,
                          "enconvert: dropped a multi-frame backend reply");
            ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_BAD_REPLIES,
                                             1);
            zmq_msg_close(&msg);
            ngx_http_enconvert_backend_drop_rest(rev->log);
            continue;
        }

        ngx_http_enconvert_handle_reply(rev->log, zmq_msg_data(&msg),
                                        zmq_msg_size(&msg));

        zmq_msg_close(&msg);

        if (ngx_http_enconvert_zsock == NULL) {
            return;
        }
    }

    /* batch limit reached: let other events run, then continue */

    ngx_post_event(rev, &ngx_posted_events);
}


static void
ngx_http_enconvert_backend_drop_rest(ngx_log_t *log)
{
    int        more;
    zmq_msg_t  msg;

    do {
        zmq_msg_init(&msg);

        if (zmq_msg_recv(&msg, ngx_http_enconvert_zsock, ZMQ_DONTWAIT)
            == -1)
        {
            zmq_msg_close(&msg);
            return;
        }

        more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);

    } while (more);
}



/*
 * enconvert nginx module: per nginx worker process, one ZeroMQ DEALER
 * socket per enconvert_backend endpoint, their file descriptors in nginx's
 * event loop, and the table of requests waiting for a reply.
 *
 * One socket per endpoint, rather than one DEALER connected to all: the
 * module then knows which worker each request went to, so when that
 * worker's connection is lost (ngx_http_enconvert_monitor.c) its requests
 * are answered or sent again at once instead of waiting for their timers.
 * Requests are spread round-robin over the endpoints whose connection is
 * up, as the monitor says; an endpoint without one is skipped.
 *
 * ZMQ_FD is edge-triggered: it signals that ZMQ_EVENTS may have changed.
 * A socket is drained on every wakeup and after every send (the read
 * event is posted), in bounded batches.
 */


#include "ngx_http_enconvert_module.h"

#include <zmq.h>


#define NGX_HTTP_ENCONVERT_BATCH   64


static ngx_int_t ngx_http_enconvert_backend_peer(ngx_cycle_t *cycle,
    ngx_http_enconvert_main_conf_t *emcf, ngx_http_enconvert_peer_t *peer);
static ngx_int_t ngx_http_enconvert_backend_push(
    ngx_http_enconvert_ctx_t *ctx, ngx_log_t *log);
static void ngx_http_enconvert_backend_detach(ngx_http_enconvert_ctx_t *ctx);
static void ngx_http_enconvert_backend_read(ngx_event_t *rev);
static ngx_int_t ngx_http_enconvert_backend_drain(
    ngx_http_enconvert_peer_t *peer, ngx_log_t *log);
static void ngx_http_enconvert_backend_close(ngx_http_enconvert_peer_t *peer);
static void ngx_http_enconvert_backend_renew(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log);


static void                       *ngx_http_enconvert_zctx;
static ngx_http_enconvert_peer_t  *ngx_http_enconvert_peers;
static ngx_uint_t                  ngx_http_enconvert_npeers;
static ngx_uint_t                  ngx_http_enconvert_next_peer;
static uint64_t                    ngx_http_enconvert_id;

static ngx_rbtree_t                ngx_http_enconvert_pending;
static ngx_rbtree_node_t           ngx_http_enconvert_sentinel;


ngx_int_t
ngx_http_enconvert_backend_init(ngx_cycle_t *cycle,
    ngx_http_enconvert_main_conf_t *emcf)
{
    ngx_str_t                  *ep;
    ngx_uint_t                  i;
    ngx_http_enconvert_peer_t  *peer;

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

    ngx_http_enconvert_peers = ngx_pcalloc(cycle->pool,
                                   emcf->backends->nelts
                                   * sizeof(ngx_http_enconvert_peer_t));
    if (ngx_http_enconvert_peers == NULL) {
        goto failed;
    }

    ngx_http_enconvert_npeers = emcf->backends->nelts;
    ep = emcf->backends->elts;

    for (i = 0; i < ngx_http_enconvert_npeers; i++) {
        peer = &ngx_http_enconvert_peers[i];

        peer->endpoint = ep[i];
        peer->index = i;
        ngx_queue_init(&peer->pending);

        if (ngx_http_enconvert_backend_peer(cycle, emcf, peer) != NGX_OK) {
            goto failed;
        }
    }

    return NGX_OK;

failed:

    ngx_http_enconvert_backend_exit(cycle);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_enconvert_backend_peer(ngx_cycle_t *cycle,
    ngx_http_enconvert_main_conf_t *emcf, ngx_http_enconvert_peer_t *peer)
{
    int      opt;
    int64_t  maxmsg;

    peer->sock = zmq_socket(ngx_http_enconvert_zctx, ZMQ_DEALER);
    if (peer->sock == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "enconvert: zmq_socket() failed: %s",
                      zmq_strerror(errno));
        return NGX_ERROR;
    }

    /*
     * not ZMQ_IMMEDIATE: it ties the socket's queue to one connection, and
     * the replies a worker sent just before its connection ended (a worker
     * stopping answers what it has, then goes) would go with it, unread;
     * the monitor, not the socket, says whether a peer can be sent to
     */

    opt = 0;
    if (zmq_setsockopt(peer->sock, ZMQ_IMMEDIATE, &opt, sizeof(int)) == -1) {
        goto sockopt_failed;
    }

    opt = 0;
    if (zmq_setsockopt(peer->sock, ZMQ_LINGER, &opt, sizeof(int)) == -1) {
        goto sockopt_failed;
    }

    opt = 10000;
    if (zmq_setsockopt(peer->sock, ZMQ_SNDHWM, &opt, sizeof(int)) == -1
        || zmq_setsockopt(peer->sock, ZMQ_RCVHWM, &opt, sizeof(int)) == -1)
    {
        goto sockopt_failed;
    }

    opt = 1000;
    if (zmq_setsockopt(peer->sock, ZMQ_RECONNECT_IVL_MAX, &opt, sizeof(int))
        == -1)
    {
        goto sockopt_failed;
    }

    maxmsg = 64 * 1024 * 1024;
    if (zmq_setsockopt(peer->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(int64_t))
        == -1)
    {
        goto sockopt_failed;
    }

    /* heartbeats and CURVE keys */

    if (ngx_http_enconvert_peer_options(emcf, peer) != NGX_OK) {
        goto sockopt_failed;
    }

    /* watch the connection before it exists: no event is missed */

    if (ngx_http_enconvert_monitor_init(cycle, ngx_http_enconvert_zctx, peer)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (zmq_connect(peer->sock, (char *) peer->endpoint.data) == -1) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "enconvert: zmq_connect(\"%V\") failed: %s",
                      &peer->endpoint, zmq_strerror(errno));
        return NGX_ERROR;
    }

    peer->conn = ngx_http_enconvert_backend_watch(cycle, peer->sock,
                     ngx_http_enconvert_backend_read, peer);
    if (peer->conn == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;

sockopt_failed:

    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "enconvert: zmq socket option failed: %s",
                  zmq_strerror(errno));

    return NGX_ERROR;
}


void
ngx_http_enconvert_backend_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_http_enconvert_peer_t  *peer;

    for (i = 0; i < ngx_http_enconvert_npeers; i++) {
        peer = &ngx_http_enconvert_peers[i];
        ngx_http_enconvert_backend_close(peer);
    }

    ngx_http_enconvert_npeers = 0;

    if (ngx_http_enconvert_zctx) {
        zmq_ctx_term(ngx_http_enconvert_zctx);
        ngx_http_enconvert_zctx = NULL;
    }
}


/*
 * A connection of nginx's event loop over a zmq socket's ZMQ_FD, calling
 * `handler` (with c->data = data) when the socket may have become readable.
 * ZMQ_FD is edge-triggered and signals only after a read found the socket
 * empty: a first pass is posted at once to arm it (and to read what came
 * before).
 */

ngx_connection_t *
ngx_http_enconvert_backend_watch(ngx_cycle_t *cycle, void *sock,
    ngx_event_handler_pt handler, void *data)
{
    size_t             optlen;
    ngx_socket_t       fd;
    ngx_connection_t  *c;

    optlen = sizeof(ngx_socket_t);
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &optlen) == -1) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "enconvert: zmq ZMQ_FD failed: %s", zmq_strerror(errno));
        return NULL;
    }

    c = ngx_get_connection(fd, cycle->log);
    if (c == NULL) {
        return NULL;
    }

    c->read->handler = handler;
    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->data = data;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_CLEAR_EVENT) != NGX_OK) {
        c->fd = (ngx_socket_t) -1;
        ngx_free_connection(c);
        return NULL;
    }

    ngx_post_event(c->read, &ngx_posted_events);

    return c;
}


/*
 * The descriptor of a zmq socket belongs to zmq: it is not closed here, and
 * the connection is not released through ngx_close_connection().
 */

void
ngx_http_enconvert_backend_release(ngx_connection_t *c)
{
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    /* zmq closes the descriptor later, from its reaper: unregister now */

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    /* not an open socket of nginx's: no "open socket left" alert */

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


static void
ngx_http_enconvert_backend_close(ngx_http_enconvert_peer_t *peer)
{
    ngx_http_enconvert_monitor_exit(peer);

    if (peer->conn) {
        ngx_http_enconvert_backend_release(peer->conn);
        peer->conn = NULL;
    }

    if (peer->sock) {
        zmq_close(peer->sock);
        peer->sock = NULL;
    }
}


/*
 * A new DEALER and monitor for a peer whose connection ended, its replies
 * read: the old socket's queue may still hold requests written in the
 * instant the connection broke, and libzmq would hand them to whatever
 * worker connects there next, however much later, long after they were
 * answered as lost.  The new socket connects at once.
 */

static void
ngx_http_enconvert_backend_renew(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log)
{
    ngx_http_enconvert_main_conf_t  *emcf;

    ngx_http_enconvert_backend_close(peer);

    peer->connected = 0;
    peer->ended = 0;
    peer->generation++;

    emcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_enconvert_module);

    if (ngx_http_enconvert_backend_peer((ngx_cycle_t *) ngx_cycle, emcf,
                                        peer)
        != NGX_OK)
    {
        /* skipped from now on: no socket */

        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "enconvert: backend \"%V\" cannot be connected again",
                      &peer->endpoint);

        ngx_http_enconvert_backend_close(peer);
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
    ctx->msg.data = data;
    ctx->msg.len = len;

    if (ngx_http_enconvert_backend_push(ctx, r->connection->log) != NGX_OK) {
        return NGX_BUSY;
    }

    ctx->timer.handler = ngx_http_enconvert_timeout_handler;
    ctx->timer.data = ctx;
    ctx->timer.log = r->connection->log;

    ngx_add_timer(&ctx->timer, timeout);

    /* notice a client that goes away while we wait */

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_OK;
}


/* sends ctx->msg to the next endpoint that takes it, round-robin */

static ngx_int_t
ngx_http_enconvert_backend_push(ngx_http_enconvert_ctx_t *ctx,
    ngx_log_t *log)
{
    int                         n, err;
    ngx_uint_t                  i, k, level;
    ngx_http_enconvert_peer_t  *peer;

    err = EAGAIN;

    for (k = 0; k < ngx_http_enconvert_npeers; k++) {
        i = (ngx_http_enconvert_next_peer + k) % ngx_http_enconvert_npeers;
        peer = &ngx_http_enconvert_peers[i];

        if (peer->sock == NULL) {
            continue;
        }

        /*
         * the monitor's word, read now rather than when its descriptor's
         * turn comes: the connection may have ended, and the DEALER may
         * already be connected again (ngx_http_enconvert_monitor.c)
         */

        if (ngx_http_enconvert_monitor_sync(peer, log) != NGX_OK
            && peer->monitor_conn)
        {
            ngx_post_event(peer->monitor_conn->read, &ngx_posted_events);
        }

        if (!peer->connected) {
            continue;
        }

        do {
            n = zmq_send(peer->sock, ctx->msg.data, ctx->msg.len,
                         ZMQ_DONTWAIT);
            err = errno;
        } while (n == -1 && err == EINTR);

        /* sending may have consumed the edge of a pending reply */

        ngx_post_event(peer->conn->read, &ngx_posted_events);

        if (n == -1) {
            continue;
        }

        ngx_http_enconvert_next_peer = (i + 1) % ngx_http_enconvert_npeers;

        ngx_rbtree_insert(&ngx_http_enconvert_pending, &ctx->node);
        ngx_queue_insert_tail(&peer->pending, &ctx->queue);
        ctx->peer = peer;
        ctx->pending = 1;
        ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_IN_FLIGHT, 1);

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                       "enconvert: sent request %uL to \"%V\", %uz bytes",
                       (uint64_t) ctx->node.key, &peer->endpoint,
                       ctx->msg.len);

        return NGX_OK;
    }

    level = (err == EAGAIN) ? NGX_LOG_WARN : NGX_LOG_ERR;

    ngx_log_error(level, log, 0, "enconvert: backend unavailable: %s",
                  zmq_strerror(err));

    return NGX_BUSY;
}


static void
ngx_http_enconvert_backend_detach(ngx_http_enconvert_ctx_t *ctx)
{
    ngx_rbtree_key_t  key;

    if (ctx->pending) {

        /* ngx_rbtree_delete() clears the key, the id of a re-send */

        key = ctx->node.key;
        ngx_rbtree_delete(&ngx_http_enconvert_pending, &ctx->node);
        ctx->node.key = key;

        ngx_queue_remove(&ctx->queue);
        ctx->pending = 0;
        ctx->peer = NULL;
        ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_IN_FLIGHT, -1);
    }
}


void
ngx_http_enconvert_backend_finish(ngx_http_enconvert_ctx_t *ctx)
{
    ngx_http_enconvert_backend_detach(ctx);

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


/*
 * The connection to a peer is gone, and with it every reply its worker
 * still owed: a reconnected DEALER gets a new identity, so the ROUTER
 * would send them nowhere.  The replies that came before the end are
 * still queued in the DEALER and answer their requests first; then the
 * peer gets a new socket.  Requests safe to repeat go to another live
 * peer; the others are answered now (ngx_http_enconvert_lost()).
 */

void
ngx_http_enconvert_backend_lost(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log)
{
    ngx_int_t                  rc;
    ngx_queue_t                lost, *q;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_enconvert_ctx_t  *ctx;

    while (ngx_http_enconvert_backend_drain(peer, log) == NGX_AGAIN) {
        /* void */
    }

    ngx_http_enconvert_backend_renew(peer, log);

    /* taken out first: a re-send may land on this peer again */

    ngx_queue_init(&lost);

    if (!ngx_queue_empty(&peer->pending)) {
        ngx_queue_add(&lost, &peer->pending);
        ngx_queue_init(&peer->pending);
    }

    while (!ngx_queue_empty(&lost)) {
        q = ngx_queue_head(&lost);
        ctx = ngx_queue_data(q, ngx_http_enconvert_ctx_t, queue);
        r = ctx->request;
        c = r->connection;

        ngx_http_enconvert_backend_detach(ctx);

        if (ctx->idempotent
            && ngx_http_enconvert_backend_push(ctx, c->log) == NGX_OK)
        {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "enconvert: request %uL sent again, to \"%V\", "
                          "after losing \"%V\"", (uint64_t) ctx->node.key,
                          &ctx->peer->endpoint, &peer->endpoint);
            continue;
        }

        ngx_http_enconvert_backend_finish(ctx);

        rc = ngx_http_enconvert_lost(r, ctx);

        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
    }
}


/*
 * the worker behind the peer is stopping: nothing new goes to it until its
 * connection is made again (a restarted worker); what it was sent is still
 * answered by it, or else when its connection ends
 */

void
ngx_http_enconvert_backend_stopping(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log)
{
    if (peer->connected) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "enconvert: backend \"%V\" is stopping: new requests "
                      "go to the others", &peer->endpoint);
    }

    peer->connected = 0;
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
    ngx_connection_t  *c;

    c = rev->data;

    if (ngx_http_enconvert_backend_drain(c->data, rev->log) == NGX_AGAIN) {

        /* batch limit reached: let other events run, then continue */

        ngx_post_event(rev, &ngx_posted_events);
    }
}


/* handles a batch of the peer's replies: NGX_AGAIN if more may wait */

static ngx_int_t
ngx_http_enconvert_backend_drain(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log)
{
    ngx_uint_t  n;
    zmq_msg_t   msg;

    for (n = 0; n < NGX_HTTP_ENCONVERT_BATCH; n++) {

        if (peer->sock == NULL
            || ngx_http_enconvert_backend_recv(peer->sock, &msg, log)
               != NGX_OK)
        {
            return NGX_OK;
        }

        if (zmq_msg_more(&msg)) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "enconvert: dropped a multi-frame backend reply");
            ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_BAD_REPLIES,
                                             1);
            zmq_msg_close(&msg);
            ngx_http_enconvert_backend_drop_rest(peer->sock);
            continue;
        }

        ngx_http_enconvert_handle_reply(peer, log, zmq_msg_data(&msg),
                                        zmq_msg_size(&msg));

        zmq_msg_close(&msg);
    }

    return NGX_AGAIN;
}


/*
 * The next message part of a zmq socket whose ZMQ_FD fired, without
 * blocking: NGX_OK with `msg` to be closed by the caller, NGX_AGAIN when
 * nothing is readable (ZMQ_FD is armed again), NGX_ERROR (logged).
 */

ngx_int_t
ngx_http_enconvert_backend_recv(void *sock, zmq_msg_t *msg, ngx_log_t *log)
{
    int     events, err;
    size_t  optlen;

    for ( ;; ) {
        optlen = sizeof(int);

        if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &optlen) == -1) {
            if (errno == EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "enconvert: zmq ZMQ_EVENTS failed: %s",
                          zmq_strerror(errno));
            return NGX_ERROR;
        }

        if (!(events & ZMQ_POLLIN)) {
            return NGX_AGAIN;
        }

        zmq_msg_init(msg);

        if (zmq_msg_recv(msg, sock, ZMQ_DONTWAIT) != -1) {
            return NGX_OK;
        }

        err = errno;
        zmq_msg_close(msg);

        if (err == EAGAIN) {
            return NGX_AGAIN;
        }

        if (err != EINTR) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "enconvert: zmq_msg_recv() failed: %s",
                          zmq_strerror(err));
            return NGX_ERROR;
        }
    }
}


/* skips the remaining parts of a multi-part message */

void
ngx_http_enconvert_backend_drop_rest(void *sock)
{
    int        more;
    zmq_msg_t  msg;

    do {
        zmq_msg_init(&msg);

        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close(&msg);
            return;
        }

        more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);

    } while (more);
}

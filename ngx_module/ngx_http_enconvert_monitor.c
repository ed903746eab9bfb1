
/*
 * enconvert nginx module: the connection events of each backend's DEALER
 * socket (zmq_socket_monitor() on an inproc PAIR socket, read from nginx's
 * event loop, never blocking).
 *
 * A lost connection (the worker process died, or its host went silent and
 * the heartbeats timed out) answers or re-sends the requests that were
 * waiting on it; a refused CURVE handshake is logged once until a
 * handshake succeeds again.
 *
 * The events are read in two places: here, when the monitor's descriptor
 * fires, and before each send (ngx_http_enconvert_monitor_sync()), since
 * libzmq's I/O thread may already have connected again while the loop
 * still believes the old connection is up: a request sent then travels on
 * the new connection, and the old one's end, read afterwards, would take
 * it for lost.  Reading stops at the end of a connection: the handler
 * settles its requests (the replies that came before the end first, then
 * the rest answered or re-sent) and gives the peer a new socket and
 * monitor (ngx_http_enconvert_backend_lost()), so whatever the old socket
 * did afterwards never counts.
 */


#include "ngx_http_enconvert_module.h"

#include <zmq.h>


#define NGX_HTTP_ENCONVERT_MONITOR_BATCH   64

#define NGX_HTTP_ENCONVERT_MONITOR_EVENTS                                     \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED|ZMQ_EVENT_DISCONNECTED                     \
     |ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL                                    \
     |ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL|ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)


static void ngx_http_enconvert_monitor_read(ngx_event_t *rev);
static void ngx_http_enconvert_monitor_event(ngx_http_enconvert_peer_t *peer,
    ngx_uint_t event, uint32_t value, ngx_log_t *log);


ngx_int_t
ngx_http_enconvert_monitor_init(ngx_cycle_t *cycle, void *zctx,
    ngx_http_enconvert_peer_t *peer)
{
    int     opt;
    u_char  addr[64];

    /*
     * one process, one context: the index and the peer's generation (its
     * sockets are renewed) make the address unique
     */

    ngx_snprintf(addr, sizeof(addr), "inproc://enconvert-monitor-%ui-%ui%Z",
                 peer->index, peer->generation);

    if (zmq_socket_monitor(peer->sock, (char *) addr,
                           NGX_HTTP_ENCONVERT_MONITOR_EVENTS)
        == -1)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "enconvert: zmq_socket_monitor() failed: %s",
                      zmq_strerror(errno));
        return NGX_ERROR;
    }

    peer->monitor = zmq_socket(zctx, ZMQ_PAIR);
    if (peer->monitor == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "enconvert: zmq_socket() failed: %s",
                      zmq_strerror(errno));
        return NGX_ERROR;
    }

    opt = 0;
    if (zmq_setsockopt(peer->monitor, ZMQ_LINGER, &opt, sizeof(int)) == -1
        || zmq_connect(peer->monitor, (char *) addr) == -1)
    {
        goto failed;
    }

    peer->monitor_conn = ngx_http_enconvert_backend_watch(cycle,
                             peer->monitor, ngx_http_enconvert_monitor_read,
                             peer);
    if (peer->monitor_conn == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "enconvert: backend monitor failed: %s",
                  zmq_strerror(errno));

    return NGX_ERROR;
}


void
ngx_http_enconvert_monitor_exit(ngx_http_enconvert_peer_t *peer)
{
    if (peer->monitor_conn) {
        ngx_http_enconvert_backend_release(peer->monitor_conn);
        peer->monitor_conn = NULL;
    }

    if (peer->sock) {
        (void) zmq_socket_monitor(peer->sock, NULL, 0);
    }

    if (peer->monitor) {
        zmq_close(peer->monitor);
        peer->monitor = NULL;
    }
}


/*
 * Reads the peer's connection events without blocking: NGX_OK once all
 * were read, NGX_AGAIN after a batch with more to come, NGX_DONE at the
 * end of a connection whose requests the handler must settle first.
 */

ngx_int_t
ngx_http_enconvert_monitor_sync(ngx_http_enconvert_peer_t *peer,
    ngx_log_t *log)
{
    u_char      *p;
    uint16_t     event;
    uint32_t     value;
    ngx_uint_t   n;
    zmq_msg_t    msg;

    for (n = 0; n < NGX_HTTP_ENCONVERT_MONITOR_BATCH; n++) {

        if (peer->ended) {
            return NGX_DONE;
        }

        if (peer->monitor == NULL
            || ngx_http_enconvert_backend_recv(peer->monitor, &msg, log)
               != NGX_OK)
        {
            return NGX_OK;
        }

        /* frame 1: the event (16 bits) and its value (32), native order */

        if (zmq_msg_size(&msg) < 6 || !zmq_msg_more(&msg)) {
            zmq_msg_close(&msg);
            ngx_http_enconvert_backend_drop_rest(peer->monitor);
            continue;
        }

        p = zmq_msg_data(&msg);
        ngx_memcpy(&event, p, sizeof(uint16_t));
        ngx_memcpy(&value, p + sizeof(uint16_t), sizeof(uint32_t));

        zmq_msg_close(&msg);

        /* frame 2: the endpoint, which the peer already knows */

        ngx_http_enconvert_backend_drop_rest(peer->monitor);

        ngx_http_enconvert_monitor_event(peer, event, value, log);
    }

    return peer->ended ? NGX_DONE : NGX_AGAIN;
}


static void
ngx_http_enconvert_monitor_read(ngx_event_t *rev)
{
    ngx_int_t                   rc;
    ngx_connection_t           *c;
    ngx_http_enconvert_peer_t  *peer;

    c = rev->data;
    peer = c->data;

    rc = ngx_http_enconvert_monitor_sync(peer, rev->log);

    if (rc == NGX_AGAIN) {
        ngx_post_event(rev, &ngx_posted_events);
        return;
    }

    if (rc == NGX_DONE) {

        /*
         * a connection ended: the peer gets a new socket and monitor,
         * which releases this one's connection (rev is gone; the new
         * monitor's first read is posted already)
         */

        ngx_http_enconvert_backend_lost(peer, rev->log);
    }
}


static void
ngx_http_enconvert_monitor_event(ngx_http_enconvert_peer_t *peer,
    ngx_uint_t event, uint32_t value, ngx_log_t *log)
{
    ngx_uint_t   level;
    const char  *why;

    switch (event) {

    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        level = peer->handshake_failed ? NGX_LOG_NOTICE : NGX_LOG_INFO;

        ngx_log_error(level, log, 0, "enconvert: connected to backend \"%V\"",
                      &peer->endpoint);

        peer->connected = 1;
        peer->handshake_failed = 0;
        break;

    case ZMQ_EVENT_DISCONNECTED:

        /* also after each attempt that never got through: no requests */

        if (!peer->connected && ngx_queue_empty(&peer->pending)) {
            break;
        }

        peer->connected = 0;
        peer->ended = 1;

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "enconvert: lost the connection to backend \"%V\"",
                      &peer->endpoint);
        break;

    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        if (!peer->handshake_failed) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "enconvert: backend \"%V\" refused this host's "
                          "CURVE key (status %uD): the public key of "
                          "\"enconvert_curve_client_key_file\" must be in "
                          "the worker's curve_allowed_clients_file",
                          &peer->endpoint, value);
        }

        peer->handshake_failed = 1;
        break;

    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if (!peer->handshake_failed) {

            switch (value) {
            case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
                /* as the worker's refusal below says it: one message */
                why = "CURVE must be on at both ends or at neither";
                break;
            case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
                why = "a key does not match: check "
                      "\"enconvert_curve_server_key\"";
                break;
            default:
                why = "protocol error";
            }

            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "enconvert: handshake with backend \"%V\" "
                          "failed (%s, 0x%xD)", &peer->endpoint, why,
                          value);
        }

        peer->handshake_failed = 1;
        break;

    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:

        /* the worker closed the connection: the value is an errno */

        if (!peer->handshake_failed) {
            ngx_log_error(NGX_LOG_ERR, log, (ngx_err_t) value,
                          "enconvert: handshake with backend \"%V\" "
                          "failed: CURVE must be on at both ends or at "
                          "neither, with the worker's public key in "
                          "\"enconvert_curve_server_key\"",
                          &peer->endpoint);
        }

        peer->handshake_failed = 1;
        break;

    default:
        break;
    }
}

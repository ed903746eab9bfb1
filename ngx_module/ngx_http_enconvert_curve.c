
/*
 * enconvert nginx module: the security of the link to the workers.
 *
 * A tcp:// backend beyond this host carries API keys and pages: it is
 * encrypted and authenticated with CURVE (libzmq's built-in CurveZMQ), the
 * workers' public key in enconvert_curve_server_key, this host's keypair in
 * enconvert_curve_client_key_file; plain tcp:// is refused there unless
 * enconvert_allow_plain_tcp says otherwise.  ipc:// endpoints are guarded
 * by file permissions and never use CURVE.  Heartbeats on every endpoint
 * drop the connection of a worker host that went silent.
 */


#include "ngx_http_enconvert_module.h"

#include <zmq.h>


static ngx_int_t ngx_http_enconvert_z85_key(ngx_str_t *key);
static ngx_int_t ngx_http_enconvert_is_tcp(ngx_str_t *ep);
static ngx_int_t ngx_http_enconvert_loopback(ngx_str_t *ep);


/* Z85's alphabet (ZeroMQ RFC 32) */
static u_char  ngx_http_enconvert_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";


char *
ngx_http_enconvert_curve_server_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_enconvert_main_conf_t *emcf = conf;

    ngx_str_t  *value;

    if (emcf->curve_server_key.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_enconvert_z85_key(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key \"%V\" in \"%V\" directive, expected "
                           "the workers' CURVE public key: %d Z85 "
                           "characters, in quotes",
                           &value[1], &cmd->name,
                           NGX_HTTP_ENCONVERT_CURVE_KEY_LEN);
        return NGX_CONF_ERROR;
    }

    /* conf tokens are null-terminated, as zmq_setsockopt() needs */

    emcf->curve_server_key = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_enconvert_curve_client_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_enconvert_main_conf_t *emcf = conf;

    u_char     *pub;
    char       *rv;
    ngx_str_t  *value, secret;

    if (emcf->curve_secret_key.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rv = ngx_http_enconvert_read_conf_file(cf, &cmd->name, &value[1],
                                           &secret);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* never the file's content in a message: it is a secret */

    if (ngx_http_enconvert_z85_key(&secret) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" file \"%V\" does not hold a CURVE secret "
                           "key (%d Z85 characters, as \"enconvert-worker "
                           "curve-keygen\" writes)", &cmd->name, &value[1],
                           NGX_HTTP_ENCONVERT_CURVE_KEY_LEN);
        return NGX_CONF_ERROR;
    }

    if (!zmq_has("curve")) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs CURVE, which this libzmq was built "
                           "without", &cmd->name);
        return NGX_CONF_ERROR;
    }

    pub = ngx_pnalloc(cf->pool, NGX_HTTP_ENCONVERT_CURVE_KEY_LEN + 1);
    if (pub == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the file reader leaves room for the terminating null */

    secret.data[secret.len] = '\0';

    if (zmq_curve_public((char *) pub, (char *) secret.data) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot derive the public key of \"%V\": "
                           "%s", &cmd->name, &value[1],
                           zmq_strerror(errno));
        return NGX_CONF_ERROR;
    }

    emcf->curve_secret_key = secret;
    emcf->curve_public_key.data = pub;
    emcf->curve_public_key.len = NGX_HTTP_ENCONVERT_CURVE_KEY_LEN;

    return NGX_CONF_OK;
}


char *
ngx_http_enconvert_check_heartbeat(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    if (*ms < 100 || *ms > 600000) {
        return "must be between 100ms and 10m";
    }

    return NGX_CONF_OK;
}


/*
 * An enconvert_backend endpoint: ipc://path, or tcp://host:port with a
 * name, an IPv4 address or a bracketed IPv6 address, and a port 1..65535.
 */

ngx_int_t
ngx_http_enconvert_check_endpoint(ngx_str_t *ep)
{
    u_char      *p, *last, *colon;
    ngx_int_t    port;

    if (ep->len > 1024) {
        return NGX_ERROR;
    }

    if (ep->len > sizeof("ipc://") - 1
        && ngx_strncmp(ep->data, "ipc://", sizeof("ipc://") - 1) == 0)
    {
        return NGX_OK;
    }

    if (!ngx_http_enconvert_is_tcp(ep)) {
        return NGX_ERROR;
    }

    p = ep->data + sizeof("tcp://") - 1;
    last = ep->data + ep->len;

    colon = NULL;

    if (p < last && *p == '[') {
        while (p < last && *p != ']') {
            if (!(ngx_http_enconvert_isalnum(*p) || *p == ':' || *p == '.'
                  || *p == '['))
            {
                return NGX_ERROR;
            }

            p++;
        }

        if (p == last || p + 1 == last || p[1] != ':') {
            return NGX_ERROR;
        }

        colon = p + 1;

    } else {
        for ( /* void */ ; p < last && *p != ':'; p++) {
            if (!(ngx_http_enconvert_isalnum(*p) || *p == '.' || *p == '-')) {
                return NGX_ERROR;
            }
        }

        colon = p;
    }

    if (colon == ep->data + sizeof("tcp://") - 1 || colon >= last) {
        return NGX_ERROR;
    }

    port = ngx_atoi(colon + 1, last - colon - 1);

    if (port < 1 || port > 65535) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * At the end of the http{} block: CURVE keys go together, and a tcp://
 * endpoint beyond this host needs them (or enconvert_allow_plain_tcp).
 */

char *
ngx_http_enconvert_curve_check(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf)
{
    ngx_str_t   *ep;
    ngx_uint_t   i, curve;

    ngx_conf_init_value(emcf->allow_plain_tcp, 0);
    ngx_conf_init_msec_value(emcf->heartbeat_interval, 1000);
    ngx_conf_init_msec_value(emcf->heartbeat_timeout,
                             3 * emcf->heartbeat_interval);

    if (emcf->heartbeat_timeout < emcf->heartbeat_interval) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"enconvert_heartbeat_timeout\" must not be "
                           "shorter than \"enconvert_heartbeat_interval\"");
        return NGX_CONF_ERROR;
    }

    curve = (emcf->curve_server_key.data != NULL);

    if (curve != (emcf->curve_secret_key.data != NULL)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"enconvert_curve_server_key\" and "
                           "\"enconvert_curve_client_key_file\" go "
                           "together: set both for CURVE, or neither");
        return NGX_CONF_ERROR;
    }

    if (curve || emcf->allow_plain_tcp || emcf->backends == NULL) {
        return NGX_CONF_OK;
    }

    ep = emcf->backends->elts;

    for (i = 0; i < emcf->backends->nelts; i++) {
        if (ngx_http_enconvert_is_tcp(&ep[i])
            && !ngx_http_enconvert_loopback(&ep[i]))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"enconvert_backend\" endpoint \"%V\" is not "
                               "on this host: set "
                               "\"enconvert_curve_server_key\" and "
                               "\"enconvert_curve_client_key_file\", or "
                               "\"enconvert_allow_plain_tcp on\" on a network "
                               "you trust entirely", &ep[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* heartbeats on every endpoint; CURVE keys on tcp:// ones */

ngx_int_t
ngx_http_enconvert_peer_options(ngx_http_enconvert_main_conf_t *emcf,
    ngx_http_enconvert_peer_t *peer)
{
    int  ivl, timeout, ttl;

    ivl = (int) emcf->heartbeat_interval;
    timeout = (int) emcf->heartbeat_timeout;

    /* how long the worker waits for our traffic: same silence, same end */

    ttl = timeout;

    if (zmq_setsockopt(peer->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(int))
        == -1
        || zmq_setsockopt(peer->sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout,
                          sizeof(int))
           == -1
        || zmq_setsockopt(peer->sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof(int))
           == -1)
    {
        return NGX_ERROR;
    }

    if (emcf->curve_server_key.data == NULL
        || !ngx_http_enconvert_is_tcp(&peer->endpoint))
    {
        return NGX_OK;
    }

    if (zmq_setsockopt(peer->sock, ZMQ_CURVE_SERVERKEY,
                       emcf->curve_server_key.data,
                       NGX_HTTP_ENCONVERT_CURVE_KEY_LEN + 1)
        == -1
        || zmq_setsockopt(peer->sock, ZMQ_CURVE_PUBLICKEY,
                          emcf->curve_public_key.data,
                          NGX_HTTP_ENCONVERT_CURVE_KEY_LEN + 1)
           == -1
        || zmq_setsockopt(peer->sock, ZMQ_CURVE_SECRETKEY,
                          emcf->curve_secret_key.data,
                          NGX_HTTP_ENCONVERT_CURVE_KEY_LEN + 1)
           == -1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_z85_key(ngx_str_t *key)
{
    ngx_uint_t  i;

    if (key->len != NGX_HTTP_ENCONVERT_CURVE_KEY_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < key->len; i++) {
        if (ngx_strlchr(ngx_http_enconvert_z85,
                        ngx_http_enconvert_z85
                        + sizeof(ngx_http_enconvert_z85) - 1,
                        key->data[i])
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_is_tcp(ngx_str_t *ep)
{
    return ep->len > sizeof("tcp://") - 1
           && ngx_strncmp(ep->data, "tcp://", sizeof("tcp://") - 1) == 0;
}


/* 127.0.0.0/8, [::1] and localhost: the traffic stays on this host */

static ngx_int_t
ngx_http_enconvert_loopback(ngx_str_t *ep)
{
    u_char      *p, *last, *host;
    ngx_uint_t   dots;

    host = ep->data + sizeof("tcp://") - 1;
    last = ep->data + ep->len;

    if ((size_t) (last - host) > sizeof("[::1]:") - 1
        && ngx_strncmp(host, "[::1]:", sizeof("[::1]:") - 1) == 0)
    {
        return 1;
    }

    if ((size_t) (last - host) > sizeof("localhost:") - 1
        && ngx_strncasecmp(host, (u_char *) "localhost:",
                           sizeof("localhost:") - 1) == 0)
    {
        return 1;
    }

    if ((size_t) (last - host) <= sizeof("127.") - 1
        || ngx_strncmp(host, "127.", sizeof("127.") - 1) != 0)
    {
        return 0;
    }

    /* a dotted quad, not a name such as 127.example.com */

    dots = 0;

    for (p = host; p < last && *p != ':'; p++) {
        if (*p == '.') {
            dots++;

        } else if (*p < '0' || *p > '9') {
            return 0;
        }
    }

    return dots == 3;
}

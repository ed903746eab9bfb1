
/*
 * enconvert nginx module: finished jobs' status answers kept in a shared
 * memory zone and answered without the worker (docs/internals.md "Status
 * answers kept by nginx").
 *
 * The worker marks a status answer it will never change (the job finished,
 * its notifications settled) with a "cache" hint: until when the job is
 * kept, how long a download link is valid, and where each link sits in the
 * body.  An entry is found by the SHA-256 of the API key that asked and the
 * job id as asked, so only that key finds it.  The worker's word on the key
 * holds NGX_HTTP_ENCONVERT_KEY_TRUST ms (as long as the worker trusts
 * its own key lookups); after that the next poll asks the worker again and
 * its answer renews the entry, so a revoked key is refused within seconds.
 * Every answer from the zone has links signed afresh, as the worker signs
 * them.  When the zone is full the least recently used entries go.
 */


#include "ngx_http_enconvert_module.h"

#include <msgpack.h>
#include <openssl/sha.h>


#define NGX_HTTP_ENCONVERT_KEY_TRUST     5000     /* ms */
#define NGX_HTTP_ENCONVERT_DIGEST_LEN    SHA256_DIGEST_LENGTH
#define NGX_HTTP_ENCONVERT_MAX_LINKS     10000
#define NGX_HTTP_ENCONVERT_LINK_QUERY    "?expires=&signature="
#define NGX_HTTP_ENCONVERT_SIGNED_LEN                                         \
    (sizeof(NGX_HTTP_ENCONVERT_LINK_QUERY) - 1 + NGX_TIME_T_LEN              \
     + 2 * NGX_HTTP_ENCONVERT_SIGNATURE_LEN)


/* a download link inside the body: body[offset, offset + len) */
typedef struct {
    uint32_t                    offset;
    uint32_t                    prefix_len;   /* ".../v1/files/{key}" */
    uint32_t                    len;
    uint32_t                    key_len;      /* the prefix's tail */
} ngx_http_enconvert_link_t;


/*
 * in the zone: links[nlinks], then the lookup key (digest, job id), then
 * the body
 */
typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    ngx_msec_t                  trusted;      /* the worker vouched then */
    time_t                      until;        /* 0: no end */
    time_t                      link_ttl;
    size_t                      body_len;
    ngx_uint_t                  nlinks;
    ngx_uint_t                  lookup_len;
    ngx_http_enconvert_link_t   links[1];
} ngx_http_enconvert_status_node_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 lru;          /* most recent first */
} ngx_http_enconvert_status_shctx_t;


typedef struct {
    ngx_http_enconvert_status_shctx_t  *sh;
    ngx_slab_pool_t                    *shpool;
} ngx_http_enconvert_status_ctx_t;


/* a copy, made under the lock, of what an answer is built from */
typedef struct {
    ngx_http_enconvert_link_t  *links;
    ngx_uint_t                  nlinks;
    ngx_str_t                   body;
    time_t                      link_ttl;
} ngx_http_enconvert_status_copy_t;


static ngx_int_t ngx_http_enconvert_status_cache_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static void ngx_http_enconvert_status_cache_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_enconvert_status_cache_lookup_key(
    ngx_http_request_t *r, ngx_str_t *api_key, ngx_str_t *job_id,
    ngx_str_t *out);
static ngx_http_enconvert_status_node_t *ngx_http_enconvert_status_cache_find(
    ngx_http_enconvert_status_ctx_t *ctx, ngx_str_t *lookup,
    uint32_t hash);
static void ngx_http_enconvert_status_cache_delete(
    ngx_http_enconvert_status_ctx_t *ctx,
    ngx_http_enconvert_status_node_t *sn);
static ngx_int_t ngx_http_enconvert_status_cache_links(msgpack_object *o,
    ngx_str_t *body, ngx_array_t *links);
static ngx_int_t ngx_http_enconvert_status_cache_build(ngx_http_request_t *r,
    ngx_http_enconvert_status_copy_t *copy, ngx_str_t *out);


#define ngx_http_enconvert_status_lookup(sn)                                  \
    ((u_char *) &(sn)->links[(sn)->nlinks])

#define ngx_http_enconvert_status_body(sn)                                    \
    (ngx_http_enconvert_status_lookup(sn) + (sn)->lookup_len)


static ngx_str_t  ngx_http_enconvert_status_zone_name =
    ngx_string("enconvert_status_cache");


/* called from the main conf's init when the API is served */

ngx_int_t
ngx_http_enconvert_status_cache_zone(ngx_conf_t *cf,
    ngx_http_enconvert_main_conf_t *emcf)
{
    ngx_shm_zone_t                   *shm_zone;
    ngx_http_enconvert_status_ctx_t  *ctx;

    if (emcf->status_cache_size == 0) {
        return NGX_OK;
    }

    if (emcf->status_cache_size < 8 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"enconvert_status_cache_size\" must be 0 (off) "
                           "or at least %uz", 8 * ngx_pagesize);
        return NGX_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_enconvert_status_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_enconvert_status_zone_name,
                                     emcf->status_cache_size,
                                     &ngx_http_enconvert_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_enconvert_status_cache_init_zone;
    shm_zone->data = ctx;

    emcf->status_cache_zone = shm_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_enconvert_status_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data)
{
    ngx_http_enconvert_status_ctx_t  *octx = data;

    size_t                            len;
    ngx_http_enconvert_status_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* a reload keeps the answers */
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;
        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool,
                             sizeof(ngx_http_enconvert_status_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_enconvert_status_cache_insert_value);
    ngx_queue_init(&ctx->sh->lru);

    len = sizeof(" in enconvert status cache zone \"\"")
          + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx,
                " in enconvert status cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts; that is not worth a log line */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_enconvert_status_cache_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t                **p;
    ngx_http_enconvert_status_node_t  *sn, *snt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            sn = (ngx_http_enconvert_status_node_t *) node;
            snt = (ngx_http_enconvert_status_node_t *) temp;

            p = (ngx_memn2cmp(ngx_http_enconvert_status_lookup(sn),
                              ngx_http_enconvert_status_lookup(snt),
                              sn->lookup_len, snt->lookup_len)
                 < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * A status request answered from the zone: NGX_DECLINED when the zone has
 * no usable answer (the worker is asked then), else the code to finalize
 * the request with.
 */

ngx_int_t
ngx_http_enconvert_status_cache_answer(ngx_http_request_t *r,
    ngx_str_t *api_key, ngx_str_t *job_id)
{
    size_t                             links_size;
    time_t                             now;
    uint32_t                           hash;
    ngx_str_t                          lookup, body;
    ngx_http_enconvert_status_ctx_t   *ctx;
    ngx_http_enconvert_status_node_t  *sn;
    ngx_http_enconvert_main_conf_t    *emcf;
    ngx_http_enconvert_status_copy_t   copy;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_enconvert_module);

    if (emcf->status_cache_zone == NULL) {
        return NGX_DECLINED;
    }

    ctx = emcf->status_cache_zone->data;

    if (ngx_http_enconvert_status_cache_lookup_key(r, api_key, job_id,
                                                   &lookup)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hash = ngx_murmur_hash2(lookup.data, lookup.len);
    now = ngx_time();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_enconvert_status_cache_find(ctx, &lookup, hash);

    if (sn == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    if (sn->until != 0 && now >= sn->until) {
        /* retention has expired the job: the worker answers 410 now */
        ngx_http_enconvert_status_cache_delete(ctx, sn);
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    /*
     * on ngx_current_msec, the monotonic clock shared by every process of
     * the host: the wall clock stepped back (NTP, a restored snapshot)
     * kept entries trusted, a revoked key's too, for as long as the step
     */

    if ((ngx_msec_int_t) (ngx_current_msec - sn->trusted)
        >= NGX_HTTP_ENCONVERT_KEY_TRUST)
    {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_queue_remove(&sn->queue);
    ngx_queue_insert_head(&ctx->sh->lru, &sn->queue);

    links_size = sn->nlinks * sizeof(ngx_http_enconvert_link_t);

    /* aligned: the links are read as uint32_t */
    copy.links = ngx_palloc(r->pool, links_size + sn->body_len);

    if (copy.links == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(copy.links, sn->links, links_size);
    copy.nlinks = sn->nlinks;
    copy.body.data = (u_char *) copy.links + links_size;
    copy.body.len = sn->body_len;
    ngx_memcpy(copy.body.data, ngx_http_enconvert_status_body(sn),
               sn->body_len);
    copy.link_ttl = sn->link_ttl;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (ngx_http_enconvert_status_cache_build(r, &copy, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_enconvert_metrics_count(NGX_HTTP_ENCONVERT_STATUS_CACHE_HITS, 1);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_enconvert_send_json(r, NGX_HTTP_OK, &body);
}


/*
 * The worker's status answer, kept when it carries a "cache" hint; an
 * entry of the same key and job is replaced.  A hint that does not fit
 * the body is logged and the answer is not kept.
 */

void
ngx_http_enconvert_status_cache_store(ngx_http_request_t *r,
    ngx_http_enconvert_ctx_t *ctx, msgpack_object *hint, ngx_str_t *body)
{
    size_t                             size;
    uint32_t                           i, hash;
    time_t                             until, link_ttl;
    ngx_str_t                          lookup, name;
    ngx_array_t                        links;
    msgpack_object                    *v, *links_obj;
    ngx_queue_t                       *q;
    ngx_http_enconvert_status_ctx_t   *sctx;
    ngx_http_enconvert_status_node_t  *sn;
    ngx_http_enconvert_main_conf_t    *emcf;

    emcf = ngx_http_get_module_main_conf(r, ngx_http_enconvert_module);

    if (emcf->status_cache_zone == NULL
        || ctx->op != NGX_HTTP_ENCONVERT_OP_STATUS
        || hint->type != MSGPACK_OBJECT_MAP)
    {
        return;
    }

    sctx = emcf->status_cache_zone->data;

    until = -1;
    link_ttl = -1;
    links_obj = NULL;

    for (i = 0; i < hint->via.map.size; i++) {
        if (hint->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR) {
            continue;
        }

        name.data = (u_char *) hint->via.map.ptr[i].key.via.str.ptr;
        name.len = hint->via.map.ptr[i].key.via.str.size;
        v = &hint->via.map.ptr[i].val;

        if (name.len == sizeof("until") - 1
            && ngx_strncmp(name.data, "until", name.len) == 0
            && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER
            && v->via.u64 <= NGX_MAX_TIME_T_VALUE)
        {
            until = (time_t) v->via.u64;

        } else if (name.len == sizeof("link_ttl") - 1
                   && ngx_strncmp(name.data, "link_ttl", name.len) == 0
                   && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                   && v->via.u64 > 0 && v->via.u64 <= 7 * 86400)
        {
            link_ttl = (time_t) v->via.u64;

        } else if (name.len == sizeof("links") - 1
                   && ngx_strncmp(name.data, "links", name.len) == 0
                   && v->type == MSGPACK_OBJECT_ARRAY)
        {
            links_obj = v;
        }
    }

    if (ngx_array_init(&links, r->pool, 4, sizeof(ngx_http_enconvert_link_t))
        != NGX_OK)
    {
        return;
    }

    if (until < 0 || link_ttl < 0 || links_obj == NULL
        || ngx_http_enconvert_status_cache_links(links_obj, body, &links)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "enconvert: ignored an invalid status cache hint");
        return;
    }

    if (until != 0 && until <= ngx_time()) {
        return;
    }

    if (ngx_http_enconvert_status_cache_lookup_key(r, &ctx->api_key,
                                                   &ctx->target, &lookup)
        != NGX_OK)
    {
        return;
    }

    hash = ngx_murmur_hash2(lookup.data, lookup.len);

    size = offsetof(ngx_http_enconvert_status_node_t, links)
           + links.nelts * sizeof(ngx_http_enconvert_link_t)
           + lookup.len + body->len;

    /* an answer that would empty much of the zone is not worth keeping */

    if (size > emcf->status_cache_size / 8) {
        return;
    }

    ngx_shmtx_lock(&sctx->shpool->mutex);

    sn = ngx_http_enconvert_status_cache_find(sctx, &lookup, hash);

    if (sn) {
        ngx_http_enconvert_status_cache_delete(sctx, sn);
    }

    /* the least recently used answers make room */

    for ( ;; ) {
        sn = ngx_slab_alloc_locked(sctx->shpool, size);

        if (sn != NULL || ngx_queue_empty(&sctx->sh->lru)) {
            break;
        }

        q = ngx_queue_last(&sctx->sh->lru);

        ngx_http_enconvert_status_cache_delete(sctx,
            ngx_queue_data(q, ngx_http_enconvert_status_node_t, queue));
    }

    if (sn == NULL) {
        ngx_shmtx_unlock(&sctx->shpool->mutex);
        return;
    }

    sn->node.key = hash;
    sn->trusted = ngx_current_msec;
    sn->until = until;
    sn->link_ttl = link_ttl;
    sn->body_len = body->len;
    sn->nlinks = links.nelts;
    sn->lookup_len = lookup.len;

    ngx_memcpy(sn->links, links.elts,
               links.nelts * sizeof(ngx_http_enconvert_link_t));
    ngx_memcpy(ngx_http_enconvert_status_lookup(sn), lookup.data,
               lookup.len);
    ngx_memcpy(ngx_http_enconvert_status_body(sn), body->data, body->len);

    ngx_rbtree_insert(&sctx->sh->rbtree, &sn->node);
    ngx_queue_insert_head(&sctx->sh->lru, &sn->queue);

    ngx_shmtx_unlock(&sctx->shpool->mutex);
}


/* the SHA-256 of the API key, then the job id as asked */

static ngx_int_t
ngx_http_enconvert_status_cache_lookup_key(ngx_http_request_t *r,
    ngx_str_t *api_key, ngx_str_t *job_id, ngx_str_t *out)
{
    out->len = NGX_HTTP_ENCONVERT_DIGEST_LEN + job_id->len;
    out->data = ngx_pnalloc(r->pool, out->len);

    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_enconvert_sha256(r->connection->log, api_key->data,
                                  api_key->len, out->data)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data + NGX_HTTP_ENCONVERT_DIGEST_LEN, job_id->data,
               job_id->len);

    return NGX_OK;
}


static ngx_http_enconvert_status_node_t *
ngx_http_enconvert_status_cache_find(ngx_http_enconvert_status_ctx_t *ctx,
    ngx_str_t *lookup, uint32_t hash)
{
    ngx_int_t                          rc;
    ngx_rbtree_node_t                 *node, *sentinel;
    ngx_http_enconvert_status_node_t  *sn;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        sn = (ngx_http_enconvert_status_node_t *) node;

        rc = ngx_memn2cmp(lookup->data, ngx_http_enconvert_status_lookup(sn),
                          lookup->len, sn->lookup_len);

        if (rc == 0) {
            return sn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_enconvert_status_cache_delete(ngx_http_enconvert_status_ctx_t *ctx,
    ngx_http_enconvert_status_node_t *sn)
{
    ngx_queue_remove(&sn->queue);
    ngx_rbtree_delete(&ctx->sh->rbtree, &sn->node);
    ngx_slab_free_locked(ctx->shpool, sn);
}


/*
 * The hint's links, each [offset, prefix length, length, key length]: in
 * order, inside the body, each "{prefix}?expires=" with a prefix that ends
 * with "/v1/files/" and a valid object key.
 */

static ngx_int_t
ngx_http_enconvert_status_cache_links(msgpack_object *o, ngx_str_t *body,
    ngx_array_t *links)
{
    size_t                      from;
    uint32_t                    i, j;
    uint64_t                    f[4];
    ngx_str_t                   key;
    msgpack_object             *item;
    ngx_http_enconvert_link_t  *link;

    static u_char  files[] = "/v1/files/";
    static u_char  query[] = "?expires=";

    if (o->via.array.size > NGX_HTTP_ENCONVERT_MAX_LINKS
        || body->len > 0xffffffff)
    {
        return NGX_ERROR;
    }

    from = 0;

    for (i = 0; i < o->via.array.size; i++) {
        item = &o->via.array.ptr[i];

        if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 4) {
            return NGX_ERROR;
        }

        for (j = 0; j < 4; j++) {
            if (item->via.array.ptr[j].type != MSGPACK_OBJECT_POSITIVE_INTEGER
                || item->via.array.ptr[j].via.u64 > body->len)
            {
                return NGX_ERROR;
            }

            f[j] = item->via.array.ptr[j].via.u64;
        }

        /* offset, prefix, length, key */

        if (f[0] < from || f[2] > body->len - f[0]
            || f[1] + sizeof(query) - 1 > f[2]
            || f[3] + sizeof(files) - 1 > f[1]
            || ngx_strncmp(body->data + f[0] + f[1], query,
                           sizeof(query) - 1) != 0
            || ngx_strncmp(body->data + f[0] + f[1] - f[3]
                           - (sizeof(files) - 1),
                           files, sizeof(files) - 1) != 0)
        {
            return NGX_ERROR;
        }

        key.data = body->data + f[0] + f[1] - f[3];
        key.len = f[3];

        if (ngx_http_enconvert_valid_object_key(&key) != NGX_OK) {
            return NGX_ERROR;
        }

        link = ngx_array_push(links);
        if (link == NULL) {
            return NGX_ERROR;
        }

        link->offset = (uint32_t) f[0];
        link->prefix_len = (uint32_t) f[1];
        link->len = (uint32_t) f[2];
        link->key_len = (uint32_t) f[3];

        from = f[0] + f[2];
    }

    return NGX_OK;
}


/* the body with every link signed afresh */

static ngx_int_t
ngx_http_enconvert_status_cache_build(ngx_http_request_t *r,
    ngx_http_enconvert_status_copy_t *copy, ngx_str_t *out)
{
    u_char                     *p, *src;
    size_t                      size;
    time_t                      expires;
    ngx_str_t                   key;
    ngx_uint_t                  i;
    ngx_http_enconvert_link_t  *link;

    size = copy->body.len + copy->nlinks * NGX_HTTP_ENCONVERT_SIGNED_LEN;

    out->data = ngx_pnalloc(r->pool, size);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    expires = ngx_time() + copy->link_ttl;

    p = out->data;
    src = copy->body.data;

    for (i = 0; i < copy->nlinks; i++) {
        link = &copy->links[i];

        p = ngx_cpymem(p, src, copy->body.data + link->offset - src);
        p = ngx_cpymem(p, copy->body.data + link->offset, link->prefix_len);

        key.data = copy->body.data + link->offset + link->prefix_len
                   - link->key_len;
        key.len = link->key_len;

        p = ngx_sprintf(p, "?expires=%T&signature=", expires);

        p = ngx_http_enconvert_sign(r, &key, expires, p);
        if (p == NULL) {
            return NGX_ERROR;
        }

        src = copy->body.data + link->offset + link->len;
    }

    p = ngx_cpymem(p, src, copy->body.data + copy->body.len - src);

    out->len = p - out->data;

    return NGX_OK;
}

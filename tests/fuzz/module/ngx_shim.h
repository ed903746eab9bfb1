
/*
 * The fuzz targets' stand-in for the parts of nginx the module's
 * validation code calls (ngx_shim.c): a request that is just enough for
 * ngx_http_enconvert_build_convert(), and a pool whose every allocation is
 * its own malloc(), so AddressSanitizer sees each one's bounds.
 */


#ifndef _NGX_SHIM_H_INCLUDED_
#define _NGX_SHIM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a request to "localhost:8080" over plain http, with an Idempotency-Key
 * header when idem is not NULL */
ngx_http_request_t *ngx_shim_request(u_char *idem, size_t idem_len);

/* frees every allocation of the pool since the last call */
void ngx_shim_free_all(void);

/* C++ side (worker_accepts.cpp): 1 if the worker's decoder accepts the
 * message, else 0 and the decoder's detail in buf */
int enconvert_fuzz_worker_accepts(const u_char *data, size_t len,
    char *buf, size_t size);


#endif /* _NGX_SHIM_H_INCLUDED_ */

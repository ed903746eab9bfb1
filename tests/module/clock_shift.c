/*
 * LD_PRELOAD shim for tests: the wall clock (gettimeofday, time,
 * clock_gettime(CLOCK_REALTIME*)) shifted by the seconds written in the
 * file named by SHIFT_FILE (a -D at compile time: nginx clears its
 * workers' environment), read again on every call.  The monotonic clock is
 * left alone, as an NTP step or a restored VM snapshot leaves it.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long
shift_seconds(void)
{
    long   s = 0;
    FILE  *f = fopen(SHIFT_FILE, "r");

    if (f == NULL) {
        return 0;
    }

    if (fscanf(f, "%ld", &s) != 1) {
        s = 0;
    }

    fclose(f);
    return s;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
    static int (*real)(struct timeval *, void *);
    int  rc;

    if (real == NULL) {
        real = (int (*)(struct timeval *, void *))
                   dlsym(RTLD_NEXT, "gettimeofday");
    }

    rc = real(tv, tz);

    if (rc == 0 && tv != NULL) {
        tv->tv_sec += shift_seconds();
    }

    return rc;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    int  rc;

    if (real == NULL) {
        real = (int (*)(clockid_t, struct timespec *))
                   dlsym(RTLD_NEXT, "clock_gettime");
    }

    rc = real(id, ts);

    if (rc == 0 && ts != NULL
        && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
    {
        ts->tv_sec += shift_seconds();
    }

    return rc;
}

time_t
time(time_t *t)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    if (t != NULL) {
        *t = tv.tv_sec;
    }

    return tv.tv_sec;
}

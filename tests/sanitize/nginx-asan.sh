#!/bin/sh
# Debian's nginx with the ASan runtime preloaded, for make sanitize's module
# tests (ENCONVERT_NGINX): an ASan-built module cannot load into a process
# whose first library is not the runtime. The module links GCC's libasan.
LD_PRELOAD="$(gcc -print-file-name=libasan.so)${LD_PRELOAD:+ $LD_PRELOAD}" \
    exec /usr/sbin/nginx "$@"

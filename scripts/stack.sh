#!/usr/bin/env bash
# Starts, stops and inspects the local enconvert stack: a PostgreSQL cluster,
# the worker process(es) (each starts its own Xvfb and renderers) and nginx
# with the module. Everything lives under $ENCONVERT_HOME (default: var/).
#
#   stack.sh start        start what is not running, wait for /v1/health
#   stack.sh stop         stop everything started from $ENCONVERT_HOME
#   stack.sh db           start PostgreSQL only and apply migrations
#   stack.sh key ACCOUNT  print a new API key for ACCOUNT (last line)
#
# Settings (environment): PORT (8080), ENCONVERT_WORKERS (1),
# ENCONVERT_ALLOWED_NETWORKS (127.0.0.0/8,::1/128 — this local stack only),
# ENCONVERT_SMTP_URL, ENCONVERT_TLS_CA_FILE, ENCONVERT_BUILD (build/),
# ENCONVERT_RENDERERS (1) and ENCONVERT_VIEWS_PER_RENDERER (2) per worker,
# ENCONVERT_S3_ENDPOINT, ENCONVERT_S3_BUCKET, ENCONVERT_S3_REGION,
# ENCONVERT_S3_ACCESS_KEY_ID, ENCONVERT_S3_SECRET_ACCESS_KEY (all five: the S3
# storage backend; ENCONVERT_S3_PATH_STYLE=false for virtual-host style),
# ENCONVERT_WORKER_EXTRA (raw lines appended to each worker's config),
# ENCONVERT_WORKER_UMASK (the workers' umask, e.g. 0027 as the package's unit),
# ENCONVERT_NGINX_EXTRA (raw directives added to nginx's http{} block, e.g.
# "enconvert_sync_timeout 2s;" for tests).
#
# `start` run again restarts what is out of date: a worker whose binaries
# were rebuilt or whose settings changed since it started, nginx when the
# module was rebuilt. One stack.sh at a time per $ENCONVERT_HOME.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
home=${ENCONVERT_HOME:-$repo/var}
mkdir -p "$home"
home=$(cd "$home" && pwd)
case $home in
*[[:space:]]*) echo "stack: error: $home has white space in it: nginx's and" \
    "PostgreSQL's settings cannot hold it; clone or set ENCONVERT_HOME elsewhere" >&2
    exit 1 ;;
esac
# Unix socket paths hold at most 107 bytes: PostgreSQL's
# ($home/run/pg/.s.PGSQL.NNNNN) and the workers' (ipc://…/worker-N.sock).
if [ ${#home} -gt 80 ]; then
    echo "stack: error: $home is ${#home} characters long: the sockets under it" \
        "would pass the 107 a socket's path may have; clone to a shorter path or" \
        "set ENCONVERT_HOME to one of at most 80" >&2
    exit 1
fi
build=${ENCONVERT_BUILD:-$repo/build}
port=${PORT:-8080}
workers=${ENCONVERT_WORKERS:-1}
allowed=${ENCONVERT_ALLOWED_NETWORKS-127.0.0.0/8,::1/128}
worker_bin=$build/worker/enconvert-worker
render_bin=$build/worker/src/render_child/enconvert-render
module=$build/nginx/ngx_http_enconvert_module.so
pgbin=/usr/lib/postgresql/15/bin

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# PostgreSQL refuses to run as root: as root the cluster belongs to the
# `postgres` system user, otherwise to whoever runs this.
if [ "$(id -u)" -eq 0 ]; then
    pguser=postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    pguser=$(id -un)
    as_pg() { "$@"; }
fi

# Whether process $1 runs and its command line names $2. A process that
# exited but was not reaped yet (a zombie: whoever adopted it may never
# wait for it) does not count, nor another program that was given the
# number of one of ours that ended long ago.
proc_running() { # pid what
    local stat cmd
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$2"* ]]
}

pid_alive() { [ -f "$1" ] && proc_running "$(cat "$1")" "$2"; }

pg_port() {
    if [ ! -f "$home/pg.port" ]; then
        # Only a unix socket is opened; the number just names the socket.
        echo $((20000 + RANDOM % 20000)) > "$home/pg.port"
    fi
    cat "$home/pg.port"
}

psql_args() {
    echo "-h $home/run/pg -p $(pg_port) -U $pguser"
}

# The postgres user must be able to traverse every directory above the
# cluster; a clone inside a mode-0700 directory would lock it out.
open_path_for_postgres() {
    [ "$(id -u)" -eq 0 ] || return 0
    local d=$home
    while [ "$d" != / ]; do
        if ! runuser -u postgres -- test -x "$d"; then
            log "granting traverse (o+x) on $d so the postgres user can reach the cluster"
            chmod o+x "$d"
        fi
        d=$(dirname "$d")
    done
}

start_db() {
    mkdir -p "$home/run/pg" "$home/log"
    open_path_for_postgres
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$home/run/pg"
        touch "$home/log/postgres.log"
        chown postgres "$home/log/postgres.log"
    fi
    if [ ! -f "$home/pg/PG_VERSION" ]; then
        # Made aside and moved in whole: initdb writes PG_VERSION first, so
        # one killed half way (not interrupted: then it cleans up) left a
        # cluster every later run took for made and could not start.
        log "creating PostgreSQL cluster in $home/pg"
        rm -rf "$home/pg.new"
        mkdir -p "$home/pg.new"
        if [ "$(id -u)" -eq 0 ]; then chown postgres "$home/pg.new"; fi
        chmod 700 "$home/pg.new"
        as_pg "$pgbin/initdb" -D "$home/pg.new" -U "$pguser" -A trust -E UTF8 \
            --locale=C.UTF-8 >"$home/log/initdb.log" 2>&1 ||
            die "initdb failed, see $home/log/initdb.log"
        rm -rf "$home/pg"
        mv "$home/pg.new" "$home/pg"
    fi
    if ! as_pg "$pgbin/pg_ctl" -D "$home/pg" status >/dev/null 2>&1; then
        log "starting PostgreSQL (socket $home/run/pg, port $(pg_port))"
        as_pg "$pgbin/pg_ctl" -D "$home/pg" -l "$home/log/postgres.log" -w -t 60 \
            -o "-k $home/run/pg -p $(pg_port) -c listen_addresses=''" start >/dev/null 9>&- ||
            die "PostgreSQL did not start, see $home/log/postgres.log"
    fi
    # shellcheck disable=SC2046
    if ! psql -X -tA $(psql_args) -d postgres -c \
        "SELECT 1 FROM pg_database WHERE datname = 'enconvert'" | grep -q 1; then
        # shellcheck disable=SC2046
        createdb $(psql_args) enconvert
    fi
    "$worker_bin" migrate --schema_dir "$repo/schema/migrations" \
        --database_url "$(db_url)" \
        >>"$home/log/migrate.log" 2>&1 ||
        die "migrating the database failed, see $home/log/migrate.log"
}

stop_db() {
    if [ -f "$home/pg/PG_VERSION" ] &&
        as_pg "$pgbin/pg_ctl" -D "$home/pg" status >/dev/null 2>&1; then
        log "stopping PostgreSQL"
        as_pg "$pgbin/pg_ctl" -D "$home/pg" -m fast -w stop >/dev/null
    fi
}

fill_template() { # template output key=value...
    local tpl=$1 out=$2
    shift 2
    local content
    content=$(cat "$tpl")
    for kv in "$@"; do
        # Quoted: bash 5.2 (Debian 12) puts the match where an unquoted
        # replacement has a '&' (an SMTP URL's query, a raw setting).
        content=${content//"@${kv%%=*}@"/"${kv#*=}"}
    done
    printf '%s\n' "$content" >"$out"
}

# Worker N's Prometheus port: a free loopback port picked on first use and
# kept in $home, so the URL stays the same across restarts.
metrics_port() {
    local f="$home/metrics-$1.port"
    if [ ! -s "$f" ]; then
        /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$f"
    fi
    cat "$f"
}

# Before worker N starts: a kept port that something else holds now (it
# was picked from the range outgoing connections use) is given up for a
# new one, or the worker could not listen and every start would fail.
free_metrics_port() { # n
    local f="$home/metrics-$1.port"
    [ -s "$f" ] || return 0
    if ! /usr/bin/python3 - "$(cat "$f")" <<'PY'; then
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
        log "metrics port $(cat "$f") of worker $1 is taken: picking another"
        rm -f "$f"
    fi
}

# The S3 backend when all five ENCONVERT_S3_* are set (none: local storage).
# The credentials stay out of the file: the worker reads them from the
# environment it inherits (ENCONVERT_S3_ACCESS_KEY_ID, ..._SECRET_ACCESS_KEY).
s3_vars=(ENCONVERT_S3_ENDPOINT ENCONVERT_S3_BUCKET ENCONVERT_S3_REGION
    ENCONVERT_S3_ACCESS_KEY_ID ENCONVERT_S3_SECRET_ACCESS_KEY)
s3_enabled() {
    local v set=0
    for v in "${s3_vars[@]}"; do [ -n "${!v:-}" ] && set=$((set + 1)); done
    [ "$set" -eq 0 ] && return 1
    [ "$set" -eq ${#s3_vars[@]} ] || die "the S3 backend needs all of ${s3_vars[*]}"
    export ENCONVERT_S3_ACCESS_KEY_ID ENCONVERT_S3_SECRET_ACCESS_KEY
}

s3_settings() {
    printf 'storage_backend = s3\ns3_endpoint = %s\ns3_bucket = %s\ns3_region = %s\n' \
        "$ENCONVERT_S3_ENDPOINT" "$ENCONVERT_S3_BUCKET" "$ENCONVERT_S3_REGION"
    [ -n "${ENCONVERT_S3_PATH_STYLE:-}" ] && printf 's3_path_style = %s\n' "$ENCONVERT_S3_PATH_STYLE"
    return 0
}

worker_conf() { # n output
    local n=$1 out=$2 extra=""
    [ -n "$allowed" ] && extra+="allowed_networks = $allowed"$'\n'
    [ -n "${ENCONVERT_SMTP_URL:-}" ] && extra+="smtp_url = $ENCONVERT_SMTP_URL"$'\n'
    [ -n "${ENCONVERT_TLS_CA_FILE:-}" ] && extra+="tls_ca_file = $ENCONVERT_TLS_CA_FILE"$'\n'
    s3_enabled && extra+="$(s3_settings)"$'\n'
    [ -n "${ENCONVERT_WORKER_EXTRA:-}" ] && extra+="$ENCONVERT_WORKER_EXTRA"$'\n'
    fill_template "$repo/conf/worker.conf.template" "$out" \
        "N=$n" "HOME=$home" "PGPORT=$(pg_port)" "PGUSER=$pguser" \
        "BUILD=$build" "RENDERERS=${ENCONVERT_RENDERERS:-1}" \
        "VIEWS=${ENCONVERT_VIEWS_PER_RENDERER:-2}" "METRICS_PORT=$(metrics_port "$n")" \
        "EXTRA=$extra"
}

# Whether worker N, running, is out of date: its binaries were rebuilt
# after it started (its pid file's time), or the settings it would be
# given now differ from those it runs with. A worker reads its
# configuration only at start.
worker_outdated() { # n
    local n=$1 pidf="$home/run/worker-$1.pid" f
    for f in "$worker_bin" "$render_bin"; do
        [ "$f" -nt "$pidf" ] && return 0
    done
    worker_conf "$n" "$home/worker-$n.conf.next"
    local same=0
    cmp -s "$home/worker-$n.conf.next" "$home/worker-$n.conf" && same=1
    rm -f "$home/worker-$n.conf.next"
    [ "$same" -eq 0 ]
}

# Before the migrations: a worker checks the schema only at start.
stop_outdated_workers() {
    local n
    for n in $(seq 1 "$workers"); do
        if pid_alive "$home/run/worker-$n.pid" enconvert-worker && worker_outdated "$n"; then
            log "worker $n runs an older build or other settings: restarting it"
            stop_pid "$home/run/worker-$n.pid" "worker $n" enconvert-worker
        fi
    done
}

start_workers() {
    local n
    for n in $(seq 1 "$workers"); do
        if pid_alive "$home/run/worker-$n.pid" enconvert-worker; then
            continue
        fi
        free_metrics_port "$n"
        worker_conf "$n" "$home/worker-$n.conf"
        log "starting worker $n"
        # A session of its own, as nginx and PostgreSQL have: in make's
        # process group, a task runner ending `make run` by signalling the
        # group stopped the worker and left the rest running. setsid does
        # not fork here (the subshell leads no group): $! stays the worker.
        (
            if [ -n "${ENCONVERT_WORKER_UMASK:-}" ]; then umask "$ENCONVERT_WORKER_UMASK"; fi
            exec setsid nohup "$worker_bin" serve --config "$home/worker-$n.conf" \
                >>"$home/log/worker-$n.log" 2>&1 </dev/null 9>&-
        ) &
        echo $! >"$home/run/worker-$n.pid"
    done
    # Workers beyond ENCONVERT_WORKERS from an earlier run are stopped.
    for pidf in "$home"/run/worker-*.pid; do
        [ -e "$pidf" ] || continue
        n=${pidf##*/worker-}
        n=${n%.pid}
        if [ "$n" -gt "$workers" ]; then
            stop_pid "$pidf" "worker $n" enconvert-worker
        fi
    done
}

start_nginx() {
    local backends="" n user_line=""
    for n in $(seq 1 "$workers"); do
        backends+=" ipc://$home/run/worker-$n.sock"
    done
    # Only a root master switches users; the workers must reach the ipc
    # sockets and the storage written by the worker, which runs as us.
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    mkdir -p "$home/nginx"
    fill_template "$repo/conf/nginx-local.conf.template" "$home/nginx/nginx.conf" \
        "HOME=$home" "PORT=$port" "MODULE=$module" "BACKENDS=${backends# }" \
        "REPO=$repo" "USER_LINE=$user_line" "NGINX_EXTRA=${ENCONVERT_NGINX_EXTRA:-}"
    /usr/sbin/nginx -t -q -p "$home/nginx" -c "$home/nginx/nginx.conf" \
        -e "$home/log/nginx-error.log" || die "nginx configuration test failed"
    if pid_alive "$home/run/nginx.pid" nginx && [ "$module" -nt "$home/run/nginx.pid" ]; then
        # A reload keeps the module the master loaded (dlopen of the same
        # path hands the loaded one back): only a new master loads a new one.
        log "the module was rebuilt: restarting nginx"
        stop_nginx
    fi
    if pid_alive "$home/run/nginx.pid" nginx; then
        log "reloading nginx"
        /usr/sbin/nginx -p "$home/nginx" -c "$home/nginx/nginx.conf" \
            -e "$home/log/nginx-error.log" -s reload
    else
        log "starting nginx on 127.0.0.1:$port"
        /usr/sbin/nginx -p "$home/nginx" -c "$home/nginx/nginx.conf" \
            -e "$home/log/nginx-error.log" 9>&- || die "nginx did not start"
    fi
}

stop_pid() { # pidfile name what
    local pidf=$1 name=$2 what=$3 pid i
    if pid_alive "$pidf" "$what"; then
        pid=$(cat "$pidf")
        log "stopping $name"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            proc_running "$pid" "$what" || break
            sleep 0.1
        done
        if proc_running "$pid" "$what"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidf"
}

wait_healthy() {
    local i code
    for i in $(seq 1 120); do
        code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:$port/v1/health" || true)
        [ "$code" = 200 ] && return 0
        sleep 0.5
    done
    log "health check still failing (last HTTP $code); logs are in $home/log/"
    tail -n 20 "$home"/log/worker-1.log >&2 || true
    return 1
}

db_url() {
    echo "host=$home/run/pg port=$(pg_port) dbname=enconvert user=$pguser"
}

# Straight to the database: a key must never rewrite (or need) a worker's
# configuration, whose settings (allowed_networks) the running stack chose.
# Whether the running stack takes key $1: 404 for the status of a job that
# does not exist, 401 for a key it does not know. Anything else (the
# database a moment away) is asked again, for up to 10 s.
key_works() { # key
    local code i
    for i in $(seq 1 20); do
        code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
            -H "Authorization: Bearer $1" \
            "http://127.0.0.1:$port/v1/convert/status/job_stack_key_check" || true)
        case $code in
        404) return 0 ;;
        401 | 403) return 1 ;;
        esac
        sleep 0.5
    done
    log "could not check the API key in $home/env (last HTTP $code): keeping it"
    return 0
}

new_key() { # account
    "$worker_bin" key create --account "$1" --database_url "$(db_url)" | tail -n 1
}

cmd_start() {
    [ -x "$worker_bin" ] || die "$worker_bin is missing: run make build"
    [ -f "$module" ] || die "$module is missing: run make build"
    s3_enabled || true # refuses a partial ENCONVERT_S3_* set before anything starts
    mkdir -p "$home"/{run,log,storage,mail,nginx}
    if [ ! -s "$home/secret" ]; then
        (umask 077 && openssl rand -hex 32 >"$home/secret")
    fi
    stop_outdated_workers
    start_db
    start_workers
    start_nginx
    wait_healthy || die "the stack did not become healthy"

    local key=""
    if [ -f "$home/env" ]; then
        key=$(sed -n 's/^ENCONVERT_API_KEY=//p' "$home/env")
    fi
    # The key kept from an earlier run is shown only if the stack still
    # takes it (the database may have been made again since).
    if [ -n "$key" ] && ! key_works "$key"; then
        log "the API key in $home/env is not known to this database: making a new one"
        key=""
    fi
    [ -n "$key" ] || key=$(new_key local)
    local url="http://127.0.0.1:$port"
    local metrics_url="http://127.0.0.1:$(metrics_port 1)/metrics" all_metrics="" n
    for n in $(seq 1 "$workers"); do
        all_metrics+=" http://127.0.0.1:$(metrics_port "$n")/metrics"
    done
    (umask 077 && printf 'ENCONVERT_URL=%s\nENCONVERT_API_KEY=%s\nENCONVERT_METRICS_URL=%s\n' \
        "$url" "$key" "$metrics_url" >"$home/env.next" && mv "$home/env.next" "$home/env")

    cat <<EOF

enconvert is running.
  base URL : $url
  API key  : $key
  workers  : $workers   logs: $home/log/ (one JSON object per line)
  metrics  : nginx $url/metrics, worker${all_metrics}
  storage  : $(if s3_enabled; then echo "S3 bucket $ENCONVERT_S3_BUCKET at $ENCONVERT_S3_ENDPOINT (links go straight to it)"; else echo "$home/storage/ (served by nginx)"; fi)
  outbound : exempt from the address deny list: ${allowed:-nothing}${allowed:+ (local stack only, so loopback pages and receivers work)}
             the deny list guards page renders (every request) and webhook callbacks

Convert the sample page:
  curl -s -X POST $url/v1/convert/url-to-pdf \\
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" \\
    -d '{"url": "$url/sample/"}'

Stop everything with: make stop
EOF
}

# A graceful quit waits for requests in flight (a sync render, a slow
# download): after 5 s a fast stop (TERM), after 5 s more KILL. A master
# still quitting would take no reload, and nothing would be serving after.
stop_nginx() {
    local pid sig
    pid_alive "$home/run/nginx.pid" nginx || return 0
    pid=$(cat "$home/run/nginx.pid")
    log "stopping nginx"
    /usr/sbin/nginx -p "$home/nginx" -c "$home/nginx/nginx.conf" \
        -e "$home/log/nginx-error.log" -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
    for sig in TERM KILL; do
        for _ in $(seq 1 50); do
            proc_running "$pid" nginx || return 0
            sleep 0.1
        done
        log "nginx is still stopping: sending $sig"
        kill -"$sig" "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 50); do
        proc_running "$pid" nginx || return 0
        sleep 0.1
    done
}

cmd_stop() {
    stop_nginx
    for pidf in "$home"/run/worker-*.pid; do
        [ -e "$pidf" ] || continue
        stop_pid "$pidf" "$(basename "$pidf" .pid)" enconvert-worker
    done
    stop_db
}

# Two at once (two terminals, an editor's task and a terminal) would both
# find nothing running and start everything twice. The processes started
# here are given everything but the lock's descriptor (9>&-), or they
# would hold it for their lives.
exec 9>"$home/.stack.lock"
if ! flock -w 300 9; then
    die "another stack.sh has held $home/.stack.lock for 5 minutes"
fi

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
db) start_db ;;
key)
    [ -n "${2:-}" ] || die "usage: stack.sh key ACCOUNT"
    start_db
    new_key "$2"
    ;;
*) die "usage: stack.sh start|stop|db|key ACCOUNT" ;;
esac

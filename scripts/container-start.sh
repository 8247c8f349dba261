#!/usr/bin/env bash
# The container's entry point (Dockerfile CMD), also run by scripts/test.sh outside a container:
# renders nginx's configuration, optionally applies the migrations, starts the workers of one
# deployment mode and nginx, and stays in the foreground until SIGTERM, when it stops nginx
# gracefully and then the workers. `container-start.sh health` is the image's HEALTHCHECK: it asks
# the health URL where CLERK_WEBHOOK_LISTEN says nginx listens.
# Configuration only through the environment:
#   CLERK_WEBHOOK_SIGNING_SECRET[_FILE], DATABASE_URL[_FILE]   as for the binary (README)
#   CLERK_WEBHOOK_MODE            cgi | warm | persistent (default warm)
#   CLERK_WEBHOOK_WORKERS         worker processes (default 4)
#   CLERK_WEBHOOK_LISTEN          nginx listen address: PORT, ADDRESS:PORT or [IPv6]:PORT (default 8080)
#   CLERK_WEBHOOK_MIGRATE_ON_START=1   run `clerk-sync migrate` first (needs a direct connection)
#   CLERK_WEBHOOK_STATE_DIR, CLERK_WEBHOOK_BIN_DIR, CLERK_WEBHOOK_SHARE_DIR   paths (defaults suit the image)
# Logs: one JSON line per delivery on stderr, nginx's errors on stderr, its access log on stdout.
set -euo pipefail

mode=${CLERK_WEBHOOK_MODE:-warm}
workers=${CLERK_WEBHOOK_WORKERS:-4}
listen=${CLERK_WEBHOOK_LISTEN:-8080}
state=${CLERK_WEBHOOK_STATE_DIR:-/tmp/clerk-webhook}
bin=${CLERK_WEBHOOK_BIN_DIR:-/usr/local/bin}
share=${CLERK_WEBHOOK_SHARE_DIR:-/usr/share/clerk-webhook}

# Where the health check reaches nginx: the address it listens on, the loopback for a wildcard.
if [[ $listen =~ ^[0-9]{1,5}$ ]]; then
    host=127.0.0.1 port=$listen
elif [[ $listen =~ ^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.*-]+):([0-9]{1,5})$ ]]; then
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
    case $host in
        '*' | 0.0.0.0) host=127.0.0.1 ;;
        '[::]') host='[::1]' ;;
    esac
else
    port=0
fi
port=$((10#$port)) # "08080" is port 8080, as nginx reads it
if ((port < 1 || port > 65535)); then
    echo "container-start.sh: CLERK_WEBHOOK_LISTEN must be PORT, ADDRESS:PORT or [IPv6]:PORT (port 1-65535), not '$listen'" >&2
    exit 2
fi
if [[ ${1:-} == health ]]; then
    exec curl -fsS --max-time 4 "http://$host:$port/functions/v1/clerk-webhook/health"
fi

case $mode in
    cgi | warm | persistent) ;;
    *)
        echo "container-start.sh: CLERK_WEBHOOK_MODE must be cgi, warm or persistent, not '$mode'" >&2
        exit 2
        ;;
esac

if [[ ${CLERK_WEBHOOK_MIGRATE_ON_START:-0} == 1 ]]; then
    CLERK_SYNC_MIGRATIONS_DIR=${CLERK_SYNC_MIGRATIONS_DIR:-$share/migrations} "$bin/clerk-sync" migrate >&2
fi

mkdir -p "$state/temp"
"$share/nginx/render.sh" "$share/nginx/clerk-webhook.conf.in" LISTEN="$listen" \
    BINARY="$bin/clerk-webhook" FCGI_SOCKET="$state/workers.sock" >"$state/site.conf"
"$share/nginx/render.sh" "$share/nginx/standalone.conf.in" PREFIX="$state" SITE="$state/site.conf" \
    ERROR_LOG=/dev/stderr ACCESS_LOG=/dev/stdout >"$state/nginx.conf"

"$share/nginx/start-workers.sh" "$mode" "$state/workers.sock" "$bin/clerk-webhook" "$workers" &
workers_pid=$!
/usr/sbin/nginx -p "$state" -c "$state/nginx.conf" -e /dev/stderr &
nginx_pid=$!

stop() {
    kill -TERM "$nginx_pid" "$workers_pid" 2>/dev/null || true
    wait "$nginx_pid" "$workers_pid" 2>/dev/null || true
}
# docker stop (SIGTERM): nginx first and gracefully — SIGQUIT makes it close its listening socket
# and finish the requests it holds — and the workers only after it, so a delivery in flight gets its
# answer instead of a 503 and a redelivery. A delivery answers within lock_timeout (5 s) or the
# statement timeout; nginx gets 8 s, inside Docker's default 10 s grace, then everything stops.
# shellcheck disable=SC2317  # run by the trap below
graceful_stop() {
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    sleep 8 &
    local timer=$!
    wait -n "$nginx_pid" "$timer" 2>/dev/null || true
    kill "$timer" 2>/dev/null || true
    stop
}
trap 'graceful_stop; exit 0' TERM INT
echo "clerk-webhook ($mode mode, $workers workers) listening on $listen" >&2
# Whichever stops first takes the other down, so the container restarts as a whole.
wait -n "$nginx_pid" "$workers_pid" || true
stop
exit 1

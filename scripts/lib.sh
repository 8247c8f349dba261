# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are used by the scripts that source this file
# Shared by scripts/test.sh and scripts/run-local.sh: install what is missing, build, and start /
# stop a throwaway stack (PostgreSQL 15, fcgiwrap, nginx) under one temporary directory, listening
# only on Unix sockets and 127.0.0.1. Everything started is stopped by PID.

CW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where PostgreSQL 15's programs are; exported for scripts/pg-control.sh, which the fault tests run.
export CW_PG_BIN=${CW_PG_BIN:-/usr/lib/postgresql/15/bin}
# initdb refuses to run as root: when root, the stack runs as this unprivileged account.
CW_RUN_USER=${CW_RUN_USER:-clerkwh}
CW_PIDS=()

cw_log() { printf '==> %s\n' "$*" >&2; }

# Installs every Debian package the build, the deployments and the tests need, if any is missing.
cw_install_packages() {
    "$CW_ROOT/scripts/install-packages.sh" build runtime test
}

# Builds the release binaries (the same script the Dockerfile runs); sets CW_BIN_DIR.
cw_build() {
    cw_log "building release binaries"
    CW_BIN_DIR=$("$CW_ROOT/scripts/build.sh")
}

# Creates the state directory and arranges for everything to be stopped on exit.
cw_setup_state() {
    CW_STATE=$(mktemp -d /tmp/clerk-webhook.XXXXXX)
    chmod 755 "$CW_STATE"
    if [[ $EUID -eq 0 ]]; then
        id "$CW_RUN_USER" >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$CW_RUN_USER"
        chown "$CW_RUN_USER:" "$CW_STATE"
    fi
    trap cw_stop_all EXIT
    trap 'exit 130' INT TERM
}

# Runs a command as the stack's user (no fork, so $! is the command's own PID).
cw_as_user() {
    if [[ $EUID -eq 0 ]]; then
        setpriv --reuid="$CW_RUN_USER" --regid="$CW_RUN_USER" --init-groups -- "$@"
    else
        "$@"
    fi
}

# Starts a long-running command in its own process group, as the stack's user; remembers its PID.
cw_spawn() {
    local name=$1
    shift
    local as_user=()
    # The log file belongs to the stack's user, so the command can reopen /dev/stderr as containers do.
    : >"$CW_STATE/$name.out"
    if [[ $EUID -eq 0 ]]; then
        as_user=(setpriv --reuid="$CW_RUN_USER" --regid="$CW_RUN_USER" --init-groups --)
        chown "$CW_RUN_USER:" "$CW_STATE/$name.out"
    fi
    # A background job of a script is not a group leader, so setsid (and setpriv) exec in place: $! is
    # the command itself, and its process group holds everything it forks.
    setsid "${as_user[@]}" "$@" >>"$CW_STATE/$name.out" 2>&1 &
    CW_PIDS+=("$!")
}

# Stops the process groups led by the given PIDs: TERM to each leader first, so process managers
# shut their workers down gracefully (a TERM to the whole group races multiwatch into respawning
# workers); then TERM to the group, then KILL.
cw_stop_groups() {
    local pid tries
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        for tries in {1..30}; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM -- "-$pid" 2>/dev/null || true
        for tries in {1..20}; do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

cw_stop_all() {
    cw_stop_groups "${CW_PIDS[@]}"
    if [[ -n ${CW_PG_PID:-} ]]; then
        kill -INT "$CW_PG_PID" 2>/dev/null || true
        while kill -0 "$CW_PG_PID" 2>/dev/null; do sleep 0.1; done
    fi
    if [[ -n ${CW_FAULT_DATA:-} && -f $CW_FAULT_DATA/postmaster.pid ]]; then
        "$CW_ROOT/scripts/pg-control.sh" stop "$CW_FAULT_DATA" "$CW_FAULT_SOCKETS" >/dev/null 2>&1 || true
    fi
    if [[ -n ${CW_STATE:-} && ${CW_KEEP_STATE:-0} != 1 ]]; then
        rm -rf "$CW_STATE"
    fi
}

cw_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts PostgreSQL 15 on a Unix socket in the state directory, and with TLS (a throwaway
# self-signed certificate, $CW_STATE/tls/server.crt) on 127.0.0.1, the way Supabase is reached.
# A free port, so it never meets another PostgreSQL; the socket's name carries it too. Sets
# CW_PG_PORT and CW_ADMIN_URL.
cw_start_postgres() {
    cw_log "starting PostgreSQL 15 in $CW_STATE/pgdata"
    cw_as_user "$CW_PG_BIN/initdb" -D "$CW_STATE/pgdata" -U postgres -A trust -E UTF8 --locale=C \
        >"$CW_STATE/initdb.log" 2>&1 || { cat "$CW_STATE/initdb.log" >&2; return 1; }
    mkdir -p "$CW_STATE/tls"
    openssl req -new -x509 -days 2 -nodes -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$CW_STATE/tls/server.key" -out "$CW_STATE/tls/server.crt" 2>/dev/null
    chmod 600 "$CW_STATE/tls/server.key"
    [[ $EUID -eq 0 ]] && chown -R "$CW_RUN_USER:" "$CW_STATE/tls"
    CW_PG_PORT=$(cw_free_port)
    local tls="-c ssl=on -c ssl_cert_file=$CW_STATE/tls/server.crt -c ssl_key_file=$CW_STATE/tls/server.key"
    if ! cw_as_user "$CW_PG_BIN/pg_ctl" -D "$CW_STATE/pgdata" -l "$CW_STATE/postgres.log" -w -t 60 \
        -o "-k $CW_STATE -c listen_addresses=127.0.0.1 -p $CW_PG_PORT -c max_connections=200 $tls" start >/dev/null; then
        cat "$CW_STATE/postgres.log" >&2
        return 1
    fi
    CW_PG_PID=$(head -n 1 "$CW_STATE/pgdata/postmaster.pid")
    CW_ADMIN_URL=$(cw_database_url postgres)
}

# A second, separate cluster that the fault tests stop and start (scripts/pg-control.sh) without
# disturbing the main one; its database $1 has the migrations. Sets CW_FAULT_DATA, CW_FAULT_SOCKETS.
cw_start_fault_postgres() {
    CW_FAULT_DATA=$CW_STATE/faultdata
    CW_FAULT_SOCKETS=$CW_STATE/fault
    mkdir -p "$CW_FAULT_SOCKETS"
    [[ $EUID -eq 0 ]] && chown "$CW_RUN_USER:" "$CW_FAULT_SOCKETS"
    cw_as_user "$CW_PG_BIN/initdb" -D "$CW_FAULT_DATA" -U postgres -A trust -E UTF8 --locale=C \
        >"$CW_STATE/initdb-fault.log" 2>&1 || { cat "$CW_STATE/initdb-fault.log" >&2; return 1; }
    "$CW_ROOT/scripts/pg-control.sh" start "$CW_FAULT_DATA" "$CW_FAULT_SOCKETS" >/dev/null
    local url="postgresql:///postgres?host=$CW_FAULT_SOCKETS&user=postgres"
    cw_psql "$url" -c "CREATE DATABASE \"$1\""
    cw_apply_migrations "postgresql:///$1?host=$CW_FAULT_SOCKETS&user=postgres"
}

# $1 database, $2 role (default postgres, the owner of everything).
cw_database_url() { printf 'postgresql:///%s?host=%s&port=%s&user=%s' "$1" "$CW_STATE" "$CW_PG_PORT" "${2:-postgres}"; }

cw_psql() {
    PGOPTIONS="--client-min-messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"
}

# Creates database $1, optionally from template $2.
cw_create_database() {
    cw_psql "$CW_ADMIN_URL" -c "CREATE DATABASE \"$1\"${2:+ TEMPLATE \"$2\"}"
}

# Applies supabase/migrations/*.sql in file-name order to the database URL $1.
cw_apply_migrations() {
    local file
    for file in "$CW_ROOT"/supabase/migrations/*.sql; do
        cw_psql "$1" -f "$file" >/dev/null
    done
}

# Copies what the container image holds into $CW_STATE, in the image's layout (Dockerfile):
# binaries in bin/, nginx/ and the migrations in share/. The stack's account can read them there
# wherever the checkout lives.
cw_stage_files() {
    mkdir -p "$CW_STATE/bin" "$CW_STATE/share/nginx" "$CW_STATE/share/migrations"
    cp "$CW_BIN_DIR/clerk-webhook" "$CW_BIN_DIR/clerk-sync" "$CW_ROOT/scripts/container-start.sh" "$CW_STATE/bin/"
    cp -r "$CW_ROOT"/nginx/* "$CW_STATE/share/nginx/"
    cp "$CW_ROOT"/supabase/migrations/*.sql "$CW_STATE/share/migrations/"
    [[ $EUID -eq 0 ]] && chown -R "$CW_RUN_USER:" "$CW_STATE/bin" "$CW_STATE/share"
    return 0
}

# Waits until $1 answers HTTP at all (any status); $2 names what is starting.
cw_wait_for() {
    local waited=0
    until curl -s -o /dev/null "$1"; do
        sleep 0.1
        if ((++waited > 300)); then
            cat "$CW_STATE"/*.out >&2 || true
            echo "$2 did not start" >&2
            return 1
        fi
    done
}

# Starts one deployment of nginx/ (MODE: cgi, warm or persistent) with its workers and nginx on a
# free 127.0.0.1 port. $2: the DATABASE_URL the webhook uses; $3: the signing secret; $4: a name
# for its directory and logs (default: MODE); $5: the program to run (default: clerk-webhook).
# Sets CW_URL (the webhook URL), CW_WEBHOOK_LOG (where the webhook's log lines land) and
# CW_WEB_PIDS (to stop just this deployment with cw_stop_groups). CW_ACCESS_LOG=off turns nginx's
# access log off (the benchmark does, for every row alike).
cw_start_web() {
    local mode=$1 database_url=$2 secret=$3 name=${4:-$1} binary=${5:-$CW_STATE/bin/clerk-webhook}
    local port prefix share=$CW_STATE/share
    port=$(cw_free_port)
    prefix=$CW_STATE/$name
    mkdir -p "$prefix/temp"
    "$share/nginx/render.sh" "$share/nginx/clerk-webhook.conf.in" LISTEN="127.0.0.1:$port" \
        BINARY="$binary" FCGI_SOCKET="$prefix/workers.sock" >"$prefix/site.conf"
    "$share/nginx/render.sh" "$share/nginx/standalone.conf.in" PREFIX="$prefix" SITE="$prefix/site.conf" \
        ERROR_LOG="$prefix/error.log" ACCESS_LOG="${CW_ACCESS_LOG:-$prefix/access.log}" >"$prefix/nginx.conf"
    [[ $EUID -eq 0 ]] && chown -R "$CW_RUN_USER:" "$prefix"

    cw_log "starting the $name deployment ($mode) on 127.0.0.1:$port"
    # The workers' environment carries the configuration; nginx.conf never does.
    cw_spawn "$name-workers" env -i PATH=/usr/bin:/bin CLERK_WEBHOOK_SIGNING_SECRET="$secret" \
        DATABASE_URL="$database_url" "$share/nginx/start-workers.sh" "$mode" "$prefix/workers.sock" \
        "$binary" "${CW_WORKERS:-4}"
    CW_WEB_PIDS=("${CW_PIDS[-1]}")
    cw_spawn "$name-nginx" /usr/sbin/nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log"
    CW_WEB_PIDS+=("${CW_PIDS[-1]}")
    cw_wait_for "http://127.0.0.1:$port/" "the $name deployment"
    until [[ -S $prefix/workers.sock ]]; do sleep 0.1; done
    CW_URL="http://127.0.0.1:$port/functions/v1/clerk-webhook"
    CW_WEBHOOK_LOG=$CW_STATE/$name-workers.out
}

# Runs the container's entry point the way the image does (warm mode, migrations on start), with
# the image's paths under $CW_STATE. $1: DATABASE_URL; $2: the signing secret. Sets CW_URL and
# CW_WEBHOOK_LOG.
cw_start_container_entrypoint() {
    local database_url=$1 secret=$2 port
    port=$(cw_free_port)
    mkdir -p "$CW_STATE/container"
    [[ $EUID -eq 0 ]] && chown "$CW_RUN_USER:" "$CW_STATE/container"
    cw_log "starting scripts/container-start.sh (the Dockerfile's CMD) on 127.0.0.1:$port"
    cw_spawn container env -i PATH=/usr/bin:/bin CLERK_WEBHOOK_SIGNING_SECRET="$secret" \
        DATABASE_URL="$database_url" CLERK_WEBHOOK_MODE=warm CLERK_WEBHOOK_LISTEN="127.0.0.1:$port" \
        CLERK_WEBHOOK_MIGRATE_ON_START=1 CLERK_WEBHOOK_STATE_DIR="$CW_STATE/container" \
        CLERK_WEBHOOK_BIN_DIR="$CW_STATE/bin" CLERK_WEBHOOK_SHARE_DIR="$CW_STATE/share" \
        "$CW_STATE/bin/container-start.sh"
    cw_wait_for "http://127.0.0.1:$port/" "the container entry point"
    CW_URL="http://127.0.0.1:$port/functions/v1/clerk-webhook"
    CW_WEBHOOK_LOG=$CW_STATE/container.out
}

# Starts PgBouncer in transaction mode, as Supabase's pooler runs on port 6543, in front of the
# databases $1 (space-separated; * for any) for the users $2, on a Unix socket in
# $CW_STATE/pgbouncer (no TCP). Server connections go as the client's user to the database of the
# same name. cw_pooled_url names a database through it.
cw_start_pgbouncer() {
    local databases users dir=$CW_STATE/pgbouncer database user waited=0
    read -ra databases <<<"$1"
    read -ra users <<<"$2"
    cw_log "starting PgBouncer (transaction pooling) on a Unix socket"
    mkdir -p "$dir"
    for user in "${users[@]}"; do printf '"%s" ""\n' "$user"; done >"$dir/users.txt"
    {
        echo "[databases]"
        for database in "${databases[@]}"; do echo "$database = host=$CW_STATE port=$CW_PG_PORT"; done
        cat <<INI
[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 8
max_client_conn = 1000
logfile = $dir/pgbouncer.log
INI
    } >"$dir/pgbouncer.ini"
    [[ $EUID -eq 0 ]] && chown -R "$CW_RUN_USER:" "$dir"
    cw_spawn pgbouncer /usr/sbin/pgbouncer "$dir/pgbouncer.ini"
    until [[ -S $dir/.s.PGSQL.6432 ]]; do
        sleep 0.1
        if ((++waited > 100)); then
            cat "$CW_STATE/pgbouncer.out" "$dir/pgbouncer.log" >&2 || true
            echo "PgBouncer did not start" >&2
            return 1
        fi
    done
}

cw_pooled_url() { printf 'postgresql:///%s?host=%s&port=6432&user=%s' "$1" "$CW_STATE/pgbouncer" "${2:-postgres}"; }

# A fresh random signing secret in Clerk's format.
cw_new_secret() { printf 'whsec_%s' "$(head -c 32 /dev/urandom | base64)"; }

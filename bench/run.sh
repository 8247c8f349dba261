#!/usr/bin/env bash
# The benchmark, one command: clerk-webhook in each deployment mode, directly against PostgreSQL
# (fsync on; plpgsql preloaded, as Supabase's image does, after one row without) and through
# PgBouncer in transaction mode, beside the floor of its shape (trivial C CGI and FastCGI programs,
# and C CGI and FastCGI programs that run the same statement and nothing else) and the usual
# alternative (Python + svix + psycopg, as CGI and under gunicorn), all behind the same nginx on
# 127.0.0.1, driven by wrk at a fixed concurrency with freshly signed user.created deliveries for
# new users; then the persistent servers once more against a statement that writes nothing (the
# bound rows). Prints one table and writes bench/RESULTS.md.
#   bench/run.sh [SECONDS per run, default 5] [ROWS: a regex; only matching rows run, and
#                 bench/RESULTS.md is left alone]
# Knobs for trying other shapes (the defaults make bench/RESULTS.md): BENCH_CONNECTIONS (wrk's
# connections, 4), BENCH_WORKERS (warm and persistent worker processes, 4), BENCH_GUNICORN_WORKERS
# (gunicorn -w, 2: one per core).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"

seconds=${1:-5}
only=${2:-}
connections=${BENCH_CONNECTIONS:-4}
threads=2
gunicorn_workers=${BENCH_GUNICORN_WORKERS:-2}
secret=$(cw_new_secret)
results=()

"$CW_ROOT/scripts/install-packages.sh" build runtime test bench
cw_build
cw_setup_state
cw_stage_files
cw_start_postgres
cw_create_database bench
direct_url=$(cw_database_url bench)
cw_apply_migrations "$direct_url"
# The bound rows' database: the same schema, with a statement that reads and writes nothing.
cw_create_database bench_nowrite
nowrite_url=$(cw_database_url bench_nowrite)
cw_apply_migrations "$nowrite_url"
cw_psql "$nowrite_url" -f "$CW_ROOT/bench/nowrite.sql" >/dev/null

cw_start_pgbouncer bench postgres
pooled_url=$(cw_pooled_url bench)

cw_log "building the floor programs and the Python alternative"
mkdir -p "$CW_STATE/floor"
gcc -O2 -o "$CW_STATE/floor/cgi" "$CW_ROOT/bench/floor/cgi.c"
gcc -O2 -o "$CW_STATE/floor/fastcgi" "$CW_ROOT/bench/floor/fastcgi.c" -lfcgi
gcc -O2 -I/usr/include/postgresql -o "$CW_STATE/floor/fastcgi-libpq" "$CW_ROOT/bench/floor/fastcgi-libpq.c" -lfcgi -lpq
# Linked like clerk-webhook (scripts/build.sh): a static PIE with the same static libpq and
# OpenSSL, so the CGI floor pays the same per-exec linking cost.
static_pc=$("$CW_ROOT/scripts/static-link/prepare.sh")
# shellcheck disable=SC2046  # pkg-config prints several flags
gcc -O2 -static-pie -o "$CW_STATE/floor/cgi-libpq" "$CW_ROOT/bench/floor/cgi-libpq.c" \
    $(PKG_CONFIG_PATH=$static_pc pkg-config --cflags --libs libpq) 2> >(grep -v -e 'statically linked applications' -e ': in function' >&2)
venv=$CW_ROOT/.local/bench-venv
if [[ ! -x $venv/bin/gunicorn ]]; then
    # Debian's interpreter: the workers run as an unprivileged account that must be able to use it.
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q svix 'psycopg[binary]' gunicorn
fi
sed "1s|.*|#!$venv/bin/python3|" "$CW_ROOT/bench/python/webhook.py" >"$CW_STATE/floor/webhook.py"
chmod 755 "$CW_STATE/floor/webhook.py" "$CW_STATE/floor/cgi" "$CW_STATE/floor/cgi-libpq" "$CW_STATE/floor/fastcgi" \
    "$CW_STATE/floor/fastcgi-libpq"
chmod -R a+rX "$venv"
[[ $EUID -eq 0 ]] && chown -R "$CW_RUN_USER:" "$CW_STATE/floor"

rows() { cw_psql "$direct_url" -tA -c "SELECT count(*) FROM public.users"; }

# Between a row's concurrent run and its serial one: that run's thousands of writes leave dirty
# pages to flush and autovacuum due on the tables it filled. Done now, so that no row's serial p50
# measures the background work its own run (or the row before) left behind, whichever it lands on.
quiesce() {
    cw_psql "$direct_url" -q -c "VACUUM (ANALYZE) public.users, clerk_webhook.deliveries" -c "CHECKPOINT" >/dev/null
}

# $1 requests to sign now (signatures expire after 5 minutes) for run $2.
make_requests() {
    python3 "$CW_ROOT/bench/make_requests.py" "$1" "$secret" "$2" >"$CW_STATE/requests.tsv"
    chmod a+r "$CW_STATE/requests.tsv"
}

# CPU per 2xx answer, in µs, from two bench/cpu_ticks.py snapshots ($1, $2), the load generator's
# user and system seconds ($3, from GNU time) and the 2xx count ($4): "workers · nginx · database ·
# load generator".
cpu_per_answer() {
    awk -v before="$1" -v after="$2" -v load="$3" -v n="$4" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(before, b, " "); split(after, a, " "); split(load, l, " ")
        us = 1e6 / hz / n
        # A process that exited but is not reaped yet counts nowhere for a moment: never below 0.
        for (i = 1; i <= 3; i++) part[i] = (a[i] > b[i]) ? (a[i] - b[i]) * us : 0
        printf "%.0f · %.0f · %.0f · %.0f", part[1], part[2], part[3], (l[1] + l[2]) * 1e6 / n
    }'
}

# Drives CW_URL with wrk: $1 connections, $2 threads, $3 seconds. Sets RPS P50 P99 OK (2xx count)
# and CPU (per 2xx, see cpu_per_answer; the deployment's workers and nginx are CW_WEB_PIDS).
drive() {
    local output before after
    before=$("$CW_ROOT/bench/cpu_ticks.py" "${CW_WEB_PIDS[0]}" "${CW_WEB_PIDS[1]}")
    output=$(REQUESTS_FILE="$CW_STATE/requests.tsv" WRK_THREADS=$2 /usr/bin/time -f '%U %S' -o "$CW_STATE/load.time" \
        wrk -c "$1" -t "$2" -d "${3}s" --latency -s "$CW_ROOT/bench/wrk.lua" "$CW_URL")
    after=$("$CW_ROOT/bench/cpu_ticks.py" "${CW_WEB_PIDS[0]}" "${CW_WEB_PIDS[1]}")
    local total non2xx duration
    total=$(awk '/requests in/ {print $1}' <<<"$output")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$output")
    duration=$(awk '/requests in/ {sub(/s,/, "", $4); print $4}' <<<"$output")
    # Only 2xx answers count: a setup that fails fast must not look fast.
    OK=$((total - ${non2xx:-0}))
    RPS=$(awk -v n="$OK" -v d="$duration" 'BEGIN {printf "%.1f", n / d}')
    P50=$(awk '$1 == "50%" {print $2}' <<<"$output")
    P99=$(awk '$1 == "99%" {print $2}' <<<"$output")
    CPU=$(cpu_per_answer "$before" "$after" "$(cat "$CW_STATE/load.time")" "$OK")
}

# Runs CGI program $1 once by hand with the first request of requests.tsv (DATABASE_URL $2) under
# GNU time; prints its peak RSS in kB.
run_once_measured() {
    local id timestamp signature body
    IFS=$'\t' read -r id timestamp signature body <"$CW_STATE/requests.tsv"
    printf '%s' "$body" | env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
        CONTENT_LENGTH="${#body}" HTTP_SVIX_ID="$id" HTTP_SVIX_TIMESTAMP="$timestamp" \
        HTTP_SVIX_SIGNATURE="$signature" CLERK_WEBHOOK_SIGNING_SECRET="$secret" DATABASE_URL="$2" \
        CLERK_WEBHOOK_LOG_LEVEL=off /usr/bin/time -f '%M' -o "$CW_STATE/rss.txt" "$1" >"$CW_STATE/rss.out"
    grep -q '^Status: 200' "$CW_STATE/rss.out" || { echo "$1 did not answer 200 when measured" >&2; return 1; }
    cat "$CW_STATE/rss.txt"
}

# Starts gunicorn ($gunicorn_workers workers) behind the same nginx, proxying; sets CW_URL and
# CW_WEB_PIDS like cw_start_web.
start_gunicorn() {
    local prefix=$CW_STATE/gunicorn port
    port=$(cw_free_port)
    mkdir -p "$prefix/temp"
    "$CW_ROOT/nginx/render.sh" "$CW_ROOT/bench/nginx-proxy.conf.in" LISTEN="127.0.0.1:$port" \
        SOCKET="$prefix/gunicorn.sock" >"$prefix/site.conf"
    "$CW_ROOT/nginx/render.sh" "$CW_ROOT/nginx/standalone.conf.in" PREFIX="$prefix" SITE="$prefix/site.conf" \
        ERROR_LOG="$prefix/error.log" ACCESS_LOG=off >"$prefix/nginx.conf"
    [[ $EUID -eq 0 ]] && chown -R "$CW_RUN_USER:" "$prefix"
    cw_spawn gunicorn env -i PATH=/usr/bin:/bin CLERK_WEBHOOK_SIGNING_SECRET="$secret" DATABASE_URL="$1" \
        "$venv/bin/gunicorn" --chdir "$CW_STATE/floor" -w "$gunicorn_workers" -b "unix:$prefix/gunicorn.sock" webhook:app
    CW_WEB_PIDS=("${CW_PIDS[-1]}")
    cw_spawn gunicorn-nginx /usr/sbin/nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log"
    CW_WEB_PIDS+=("${CW_PIDS[-1]}")
    cw_wait_for "http://127.0.0.1:$port/" "gunicorn"
    CW_URL="http://127.0.0.1:$port/functions/v1/clerk-webhook"
}

# One row: $1 label, $2 mode, $3 DATABASE_URL (or "-"), $4 program, $5 requests to generate,
# $6 "serial" to measure a one-connection p50 too, $7 how peak RSS is measured (cgi|resident|-).
scenario() {
    local label=$1 mode=$2 url=$3 program=$4 count=$5 serial=$6 rss_kind=$7 name
    [[ -z $only || $label =~ $only ]] || return 0
    name=$(tr -c 'a-z0-9\n' '-' <<<"$label" | tr -s '-')
    make_requests "$count" "$name"
    if [[ $mode == gunicorn ]]; then
        start_gunicorn "$url"
    else
        cw_start_web "$mode" "$url" "$secret" "$name" "$program"
    fi
    local before after serial_p50=- rss=-
    before=$(rows)
    drive "$connections" "$threads" "$seconds"
    if [[ $serial == serial ]]; then
        local rps=$RPS p50=$P50 p99=$P99 ok=$OK cpu=$CPU
        make_requests 20000 "$name-serial"
        quiesce
        drive 1 1 3
        serial_p50=$P50
        RPS=$rps P50=$p50 P99=$p99 OK=$((ok + OK)) CPU=$cpu
    fi
    after=$(rows)
    case $rss_kind in
        cgi)
            # GNU time's own footprint is tiny, so its %M is the program's peak RSS.
            make_requests 1 "$name-rss"
            rss=$(run_once_measured "$program" "$url")
            ;;
        resident)
            # The largest resident high-water mark among the long-lived workers.
            rss=$(for pid in $(pgrep -g "${CW_WEB_PIDS[0]}"); do
                awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null
            done | sort -n | tail -1)
            ;;
    esac
    cw_stop_groups "${CW_WEB_PIDS[@]}"
    local check=-
    if [[ $url == "$nowrite_url" ]]; then
        check="- (writes nothing; $OK 2xx)"
    elif [[ $url != - ]]; then
        # Every 2xx must be a new row; a few more rows are allowed for requests still in flight
        # when wrk stopped counting.
        if ((after - before >= OK && after - before <= OK + connections + 1)); then  # +1: the serial run
            check="ok ($OK 2xx, $((after - before)) rows)"
        else
            check="MISMATCH: $OK 2xx, $((after - before)) rows"
        fi
    fi
    results+=("$label|$RPS|$P50|$P99|$serial_p50|$CPU|${rss:+$rss}|$check")
    printf '%-44s %9s req/s  p50 %-9s p99 %-9s serial p50 %-9s cpu %s us  rss %s kB  %s\n' \
        "$label" "$RPS" "$P50" "$P99" "$serial_p50" "$CPU" "$rss" "$check" >&2
}

# The statement alone: PostgreSQL driven by pgbench with clerk-webhook's statement for new users, at
# the same concurrency, with no HTTP, verification or parsing at all. Its rate bounds every
# persistent row, whatever serves the HTTP.
statement_alone() {
    local label="floor: the same statement alone (pgbench, no HTTP)"
    [[ -z $only || $label =~ $only ]] || return 0
    cat >"$CW_STATE/pgbench.sql" <<'SQL'
\set n random(1, 9000000000000000000)
SELECT clerk_webhook.apply_user_event('msg_pgbench_' || :client_id || '_' || :n, 'user.created', 'upsert', 'user_pgbench_' || :client_id || '_' || :n, 1700000000000, 'pgbench_' || :client_id || '_' || :n || '@example.com', 'Ada Lovelace');
SQL
    local before after output processed tps check ticks_before ticks_after cpu
    before=$(rows)
    ticks_before=$("$CW_ROOT/bench/cpu_ticks.py" - -)
    output=$(/usr/bin/time -f '%U %S' -o "$CW_STATE/load.time" \
        "$CW_PG_BIN/pgbench" -n -f "$CW_STATE/pgbench.sql" -c "$connections" -j "$threads" -T "$seconds" "$direct_url" 2>&1)
    ticks_after=$("$CW_ROOT/bench/cpu_ticks.py" - -)
    after=$(rows)
    processed=$(awk -F': ' '/number of transactions actually processed/ {print $2}' <<<"$output")
    tps=$(awk '/^tps = / {printf "%.1f", $3}' <<<"$output")
    cpu=$(cpu_per_answer "$ticks_before" "$ticks_after" "$(cat "$CW_STATE/load.time")" "$processed")
    if ((after - before == processed)); then check="ok ($processed calls, $((after - before)) rows)"; else check="MISMATCH: $processed calls, $((after - before)) rows"; fi
    results+=("$label|$tps|-|-|-|$cpu|-|$check")
    printf '%-44s %9s req/s  cpu %s us  %s\n' "$label" "$tps" "$cpu" "$check" >&2
}

# Instructions one persistent worker executes per delivery, counted by callgrind: unlike req/s on
# a shared machine, this barely moves between runs. $1 label, $2 program: one worker under valgrind
# behind the same nginx, one connection for $seconds; its whole life (start-up included) divided by
# its 2xx answers. Sets INSTRUCTIONS.
instructions() {
    local label=$1 program=$2 name wrapper total
    name=$(tr -c 'a-z0-9\n' '-' <<<"$label" | tr -s '-')
    wrapper=$CW_STATE/floor/$name.sh
    mkdir -p "$CW_STATE/$name.callgrind"
    printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/%%p %s\n' \
        "$CW_STATE/$name.callgrind" "$program" >"$wrapper"
    chmod 755 "$wrapper"
    [[ $EUID -eq 0 ]] && chown "$CW_RUN_USER:" "$wrapper" "$CW_STATE/$name.callgrind"
    make_requests 20000 "$name"
    CW_WORKERS=1 cw_start_web persistent "$direct_url" "$secret" "$name" "$wrapper"
    drive 1 1 "$seconds"
    cw_stop_groups "${CW_WEB_PIDS[@]}"
    # The largest profile is the worker's (start-workers.sh's start-up check leaves a small one).
    total=$(cat "$CW_STATE/$name.callgrind"/* | awk '/^summary:/ {print $2}' | sort -n | tail -1)
    INSTRUCTIONS=$(awk -v t="$total" -v n="$OK" 'BEGIN { printf "%.0f", t / n / 1000 }')
    printf '%-44s %9sk instructions per delivery (%s 2xx)\n' "$label" "$INSTRUCTIONS" "$OK" >&2
}

webhook=$CW_STATE/bin/clerk-webhook
CW_WORKERS=${BENCH_WORKERS:-4}
# The same nginx for every row: no access log anywhere (the gunicorn row's proxy has none either).
CW_ACCESS_LOG=off
# First on the cluster as initdb made it: every new connection loads the plpgsql library for the
# sync function. Then the way Supabase's image runs it (plpgsql in shared_preload_libraries: loaded
# once by the postmaster, inherited by every backend) for every other row. PgBouncer has no server
# connection yet, so the restart drops nothing.
scenario "clerk-webhook cgi, direct, plpgsql not preloaded" cgi "$direct_url" "$webhook" 20000 serial -
cw_log "restarting PostgreSQL with plpgsql preloaded, as Supabase's image does"
cw_psql "$CW_ADMIN_URL" -c "ALTER SYSTEM SET shared_preload_libraries = 'plpgsql'"
cw_as_user "$CW_PG_BIN/pg_ctl" -D "$CW_STATE/pgdata" -l "$CW_STATE/postgres.log" -w -t 60 -m fast restart >/dev/null
CW_PG_PID=$(head -n 1 "$CW_STATE/pgdata/postmaster.pid")
[[ $(cw_psql "$CW_ADMIN_URL" -tA -c "SHOW shared_preload_libraries") == plpgsql ]]
scenario "floor: C CGI (fcgiwrap)" cgi - "$CW_STATE/floor/cgi" "$threads" - cgi
scenario "floor: C CGI + the same statement, direct" cgi "$direct_url" "$CW_STATE/floor/cgi-libpq" 20000 serial cgi
scenario "floor: C FastCGI, persistent" persistent - "$CW_STATE/floor/fastcgi" "$threads" - -
scenario "floor: C FastCGI + the same statement, persistent" persistent "$direct_url" "$CW_STATE/floor/fastcgi-libpq" 60000 - -
statement_alone
scenario "clerk-webhook cgi, direct" cgi "$direct_url" "$webhook" 20000 serial cgi
scenario "clerk-webhook cgi, pgbouncer" cgi "$pooled_url" "$webhook" 20000 serial cgi
scenario "clerk-webhook warm, direct" warm "$direct_url" "$webhook" 30000 serial cgi
scenario "clerk-webhook warm, pgbouncer" warm "$pooled_url" "$webhook" 30000 serial cgi
scenario "clerk-webhook persistent, direct" persistent "$direct_url" "$webhook" 60000 serial resident
scenario "clerk-webhook persistent, pgbouncer" persistent "$pooled_url" "$webhook" 60000 serial resident
scenario "python svix+psycopg CGI, direct" cgi "$direct_url" "$CW_STATE/floor/webhook.py" 2000 - cgi
scenario "python svix+psycopg gunicorn x$gunicorn_workers, direct" gunicorn "$direct_url" - 30000 serial resident
# The bound: the same three servers when the statement writes nothing (bench/nowrite.sql), so the
# database's share of a delivery is a round trip and an empty transaction.
scenario "bound: C FastCGI + a statement that writes nothing, persistent" persistent "$nowrite_url" "$CW_STATE/floor/fastcgi-libpq" 100000 - -
scenario "bound: clerk-webhook persistent, a statement that writes nothing" persistent "$nowrite_url" "$webhook" 80000 - -
scenario "bound: python gunicorn x$gunicorn_workers, a statement that writes nothing" gunicorn "$nowrite_url" - 40000 - -
if [[ -z $only || instructions =~ $only ]]; then
    instructions "clerk-webhook persistent, instructions" "$webhook"
    webhook_instructions=$INSTRUCTIONS
    instructions "floor: C FastCGI + the same statement, instructions" "$CW_STATE/floor/fastcgi-libpq"
    floor_instructions=$INSTRUCTIONS
fi

# ---- the table, the ratios, bench/RESULTS.md ----
[[ -z $only ]] || exit 0
field() { # $1 label, $2 column (1 = label)
    local row
    for row in "${results[@]}"; do
        [[ ${row%%|*} == "$1" ]] && { cut -d'|' -f"$2" <<<"$row"; return; }
    done
}
ms() { # wrk latency text (850.00us, 1.23ms, 2.01s) to milliseconds
    awk -v t="$1" 'BEGIN { v = t + 0; if (t ~ /us$/) v /= 1000; else if (t ~ /ms$/) v += 0; else if (t ~ /s$/) v *= 1000; printf "%.2f", v }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "NOT met" }'; }

cgi_rps=$(field "clerk-webhook cgi, direct" 2)
cgi_pooled_rps=$(field "clerk-webhook cgi, pgbouncer" 2)
best_cgi_rps=$(awk -v a="$cgi_rps" -v b="$cgi_pooled_rps" 'BEGIN { print (a > b) ? a : b }')
python_cgi_rps=$(field "python svix+psycopg CGI, direct" 2)
floor_cgi_rps=$(field "floor: C CGI (fcgiwrap)" 2)
persistent_rps=$(field "clerk-webhook persistent, direct" 2)
gunicorn_rps=$(field "python svix+psycopg gunicorn x$gunicorn_workers, direct" 2)
statement_floor_rps=$(field "floor: C FastCGI + the same statement, persistent" 2)
statement_alone_rps=$(field "floor: the same statement alone (pgbench, no HTTP)" 2)
serial_direct=$(ms "$(field "clerk-webhook cgi, direct" 5)")
serial_pooled=$(ms "$(field "clerk-webhook cgi, pgbouncer" 5)")
serial_warm_direct=$(ms "$(field "clerk-webhook warm, direct" 5)")
serial_warm_pooled=$(ms "$(field "clerk-webhook warm, pgbouncer" 5)")
serial_not_preloaded=$(ms "$(field "clerk-webhook cgi, direct, plpgsql not preloaded" 5)")
serial_floor_direct=$(ms "$(field "floor: C CGI + the same statement, direct" 5)")
rss_kb=$(field "clerk-webhook cgi, direct" 7)
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')

r1=$(ratio "$best_cgi_rps" "$python_cgi_rps")
r2=$(ratio "$best_cgi_rps" "$floor_cgi_rps")
r3=$(ratio "$persistent_rps" "$gunicorn_rps")
r4=$(ratio "$persistent_rps" "$statement_floor_rps")
r5=$(ratio "$statement_floor_rps" "$gunicorn_rps")
r6=$(ratio "$statement_alone_rps" "$gunicorn_rps")
# Where persistent mode's and gunicorn's CPU goes per delivery, and what a handler that cost
# nothing could do behind the same nginx, PostgreSQL and wrk: every core busy with those three
# alone, at what they cost per delivery beside clerk-webhook, and beside the C responder.
persistent_cpu=$(field "clerk-webhook persistent, direct" 6)
gunicorn_cpu=$(field "python svix+psycopg gunicorn x$gunicorn_workers, direct" 6)
part() { awk -F' · ' -v i="$2" '{print $i}' <<<"$1"; }
shared() { awk -F' · ' '{print $2 + $3 + $4}' <<<"$1"; }
ceiling() { awk -v s="$1" -v c="$(nproc)" 'BEGIN { printf "%.0f", (s > 0) ? c * 1e6 / s : 0 }'; }
shared_us=$(shared "$persistent_cpu")
floor_shared_us=$(shared "$(field "floor: C FastCGI + the same statement, persistent" 6)")
ceiling_rps=$(ceiling "$shared_us")
floor_ceiling_rps=$(ceiling "$floor_shared_us")
r7=$(ratio "$ceiling_rps" "$gunicorn_rps")
r8=$(ratio "$floor_ceiling_rps" "$gunicorn_rps")
r9=$(ratio "$webhook_instructions" "$floor_instructions")
bound_gunicorn_rps=$(field "bound: python gunicorn x$gunicorn_workers, a statement that writes nothing" 2)
r10=$(ratio "$(field "bound: clerk-webhook persistent, a statement that writes nothing" 2)" "$bound_gunicorn_rps")
r11=$(ratio "$(field "bound: C FastCGI + a statement that writes nothing, persistent" 2)" "$bound_gunicorn_rps")
{
    echo "# Benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) · $(uname -sr) ·" \
        "PostgreSQL 15 (fsync on; plpgsql preloaded as on Supabase, except where a row says otherwise), nginx, wrk -c $connections -t $threads -d ${seconds}s per row, $CW_WORKERS FastCGI workers ·" \
        "\`bench/run.sh\`"
    echo
    echo "| setup | req/s | p50 | p99 | serial p50 | CPU µs per 2xx: workers · nginx · database · load | peak RSS (kB) | every 2xx is a row |"
    echo "|---|---|---|---|---|---|---|---|"
    for row in "${results[@]}"; do echo "| ${row//|/ | } |"; done
    echo
    echo "Ratios from this run (targets in parentheses):"
    echo
    echo "- CGI mode vs Python CGI, req/s: **${r1}×** (≥ 100×: $(verdict "$r1" ">=" 100))"
    echo "- CGI mode vs the trivial C CGI floor, req/s: **${r2}×** (≥ 0.25×: $(verdict "$r2" ">=" 0.25))"
    echo "- persistent mode vs gunicorn, req/s: **${r3}×** (≥ 2.5×: $(verdict "$r3" ">=" 2.5)); vs a C FastCGI"
    echo "  responder that runs the same statement and nothing else: **${r4}×**, which itself makes **${r5}×** gunicorn;"
    echo "  PostgreSQL alone running that statement (pgbench, same connections, no HTTP) makes **${r6}×** gunicorn."
    echo "  CPU per delivery: persistent mode's workers **$(part "$persistent_cpu" 1) µs**, gunicorn's Python"
    echo "  **$(part "$gunicorn_cpu" 1) µs**; nginx, PostgreSQL and wrk take **${shared_us} µs** more in the persistent row"
    echo "  (**${floor_shared_us} µs** beside the C responder). A handler that cost nothing, with every core busy doing"
    echo "  only those, would answer at most **${ceiling_rps} req/s** (**${r7}×** gunicorn) at the persistent row's"
    echo "  costs, **${floor_ceiling_rps} req/s** (**${r8}×**) at the C responder's. With a statement that writes"
    echo "  nothing (\`bench/nowrite.sql\`: PostgreSQL's share is a round trip), gunicorn answers"
    echo "  **${bound_gunicorn_rps} req/s**; persistent mode **${r10}×** that, the C responder **${r11}×**"
    # The serial targets name no mode, so each per-invocation mode gets its own verdict.
    echo "- serial p50 per delivery, direct (≤ 6 ms): warm single-use mode **${serial_warm_direct} ms**" \
        "($(verdict "$serial_warm_direct" "<=" 6)), CGI mode **${serial_direct} ms** ($(verdict "$serial_direct" "<=" 6));" \
        "through PgBouncer (≤ 4 ms): warm **${serial_warm_pooled} ms** ($(verdict "$serial_warm_pooled" "<=" 4))," \
        "CGI **${serial_pooled} ms** ($(verdict "$serial_pooled" "<=" 4)). CGI direct on a cluster that does not" \
        "preload plpgsql: **${serial_not_preloaded} ms**; a C CGI program that only connects and runs the same" \
        "statement: **${serial_floor_direct} ms** direct"
    echo "- peak RSS of one CGI invocation: **${rss_mb} MB** (≤ 12: $(verdict "$rss_mb" "<=" 12))"
    echo "- instructions per delivery in one persistent worker (callgrind, start-up included; steadier than"
    echo "  req/s): clerk-webhook **${webhook_instructions}k**, the C FastCGI responder that runs the same statement"
    echo "  and nothing else **${floor_instructions}k** (**${r9}×**)"
    echo
    echo "CGI mode's req/s is the better of direct and PgBouncer. Serial p50: one connection, one"
    echo "delivery at a time, for 3 s after the row's concurrent run, once VACUUM and CHECKPOINT have"
    echo "done the background work that run left. CPU per 2xx: user + system time during the"
    echo "concurrent run (clock ticks from /proc, reaped children included) of the deployment's"
    echo "workers (fcgiwrap with its CGI programs, multiwatch with its workers and their start-up,"
    echo "gunicorn), nginx, PostgreSQL with PgBouncer (a new server process per connection included),"
    echo "and wrk (pgbench in the statement-alone row), divided by the 2xx answers. Peak RSS: one CGI"
    echo "invocation run by hand under GNU time (%M), or for long-lived workers their largest VmHWM"
    echo "after the run. Absolute numbers move with the machine; ratios measured in one run hold better."
} >"$CW_ROOT/bench/RESULTS.md"
cat "$CW_ROOT/bench/RESULTS.md"

#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds, starts a throwaway
# PostgreSQL 15, PgBouncer and the nginx deployments (cgi, warm, persistent, warm through PgBouncer,
# the container's entry point) on 127.0.0.1, checks the migrations, and runs every test against
# them. Everything it starts is stopped on exit.
# Then: one CGI invocation under valgrind, a bounded fuzzing run, the unit tests under ASan and TSan,
# scripts/run-local.sh as a user runs it, the log scan and the linters.
# Arguments go to `swift test`, e.g. `scripts/test.sh --filter FallbackTests` while working on one
# suite; such a run skips fuzzing, the sanitizers and the run-local.sh check.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

cw_install_packages
cw_build
cw_setup_state
cw_start_postgres
# Password logins as Supabase has them (SCRAM-SHA-256, over TCP) for members of one group; every
# other connection stays trust. The shipped binary's own libpq must do that handshake.
cw_as_user sed -i '1i host all +clerk_webhook_password_login 127.0.0.1/32 scram-sha-256' "$CW_STATE/pgdata/pg_hba.conf"
cw_psql "$CW_ADMIN_URL" -c "CREATE ROLE clerk_webhook_password_login NOLOGIN" -c "SELECT pg_reload_conf()" >/dev/null

cw_log "applying migrations twice to an empty database, a Supabase-like one and a seeded one"
cw_create_database clerk_webhook_template
template_url=$(cw_database_url clerk_webhook_template)
cw_apply_migrations "$template_url"
cw_apply_migrations "$template_url"
"$CW_ROOT/scripts/check-migrations.sh" "$CW_ADMIN_URL" "$CW_STATE" "$CW_PG_PORT"

cw_log "starting a second PostgreSQL for the fault tests (they stop and restart it)"
cw_start_fault_postgres clerk_webhook_faults

# The e2e database is cloned before anything connects to the template.
cw_create_database clerk_webhook_e2e clerk_webhook_template
# The public Svix test-vector secret: the tests sign with it.
test_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
cw_stage_files
# The deployments connect as the README recommends: a login that may only execute the webhook's
# functions (a member of clerk_webhook_writer), not the tables' owner. The container's entry point
# migrates first, so it keeps the owner's connection.
cw_psql "$CW_ADMIN_URL" -c "CREATE ROLE clerk_webhook_e2e LOGIN IN ROLE clerk_webhook_writer"
deployments=()
for mode in cgi warm persistent; do
    cw_start_web "$mode" "$(cw_database_url clerk_webhook_e2e clerk_webhook_e2e)" "$test_secret"
    deployments+=("$mode $CW_URL $CW_WEBHOOK_LOG")
done
# The setup the README recommends for Supabase: warm workers through a transaction-mode pooler.
cw_start_pgbouncer '*' "postgres clerk_webhook_e2e"
cw_start_web warm "$(cw_pooled_url clerk_webhook_e2e clerk_webhook_e2e)" "$test_secret" warm-pgbouncer
deployments+=("warm-pgbouncer $CW_URL $CW_WEBHOOK_LOG")
# The Dockerfile's entry point, run as the image runs it: the same end-to-end tests go through it.
cw_start_container_entrypoint "$(cw_database_url clerk_webhook_e2e)" "$test_secret"
deployments+=("container $CW_URL $CW_WEBHOOK_LOG")

cw_log "running swift test"
export CLERK_WEBHOOK_TEST_PGHOST=$CW_STATE CLERK_WEBHOOK_TEST_PGPORT=$CW_PG_PORT
export CLERK_WEBHOOK_TEST_TLS_ROOT_CERT=$CW_STATE/tls/server.crt
export CLERK_WEBHOOK_TEST_POOLER_HOST=$CW_STATE/pgbouncer
export CLERK_WEBHOOK_TEST_TEMPLATE=clerk_webhook_template
export CLERK_WEBHOOK_TEST_E2E_DATABASE=clerk_webhook_e2e
# One "mode url log" triple per deployment, separated by semicolons.
CLERK_WEBHOOK_TEST_DEPLOYMENTS=$(IFS=';' && echo "${deployments[*]}")
export CLERK_WEBHOOK_TEST_DEPLOYMENTS
export CLERK_WEBHOOK_TEST_BINARY=$CW_STATE/bin/clerk-webhook
export CLERK_WEBHOOK_TEST_SYNC_BINARY=$CW_STATE/bin/clerk-sync
# The image's layout under $CW_STATE (cw_stage_files), for tests that run the container's entry
# point themselves, as this account when the tests run as root (nginx then runs unprivileged).
export CLERK_WEBHOOK_TEST_IMAGE_ROOT=$CW_STATE
# Where tests that start a stack themselves leave its log (*.out) for the scan at the end.
export CLERK_WEBHOOK_TEST_LOG_DIR=$CW_STATE
[[ $EUID -eq 0 ]] && export CLERK_WEBHOOK_TEST_RUN_USER=$CW_RUN_USER
export CLERK_WEBHOOK_TEST_FAULT_DATA=$CW_FAULT_DATA CLERK_WEBHOOK_TEST_FAULT_SOCKETS=$CW_FAULT_SOCKETS
export CLERK_WEBHOOK_TEST_FAULT_DATABASE=clerk_webhook_faults
(cd "$CW_ROOT" && swift test -Xswiftc -warnings-as-errors "$@")
# The deployments tests start themselves live under $CW_STATE/deployment-*: none may outlive them.
# grep exits 2 when a process ends while it reads, found or not: what it prints decides.
left=$(grep -l -s -F -f <(echo "$CW_STATE/deployment-") /proc/[0-9]*/cmdline || true)
if [[ -n $left ]]; then
    echo "still running after the tests that started them: $left" >&2
    for entry in $left; do
        pid=${entry#/proc/}
        kill -KILL "${pid%/cmdline}" 2>/dev/null || true
    done
    exit 1
fi

cw_log "one CGI invocation under valgrind: no memory errors, nothing definitely or indirectly lost"
# The same code linked against the shared glibc (scripts/build.sh builds both): valgrind cannot
# follow malloc in the shipped static binary, where it would see no allocations at all.
dynamic_bin=$(cd "$CW_ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/clerk-webhook
readelf -l "$dynamic_bin" | grep -q INTERP || { echo "$dynamic_bin is not dynamically linked" >&2; exit 1; }
fixture=$CW_ROOT/fixtures/user.created.json
length=$(stat -c %s "$fixture")
mapfile -t signed < <(CLERK_WEBHOOK_SIGNING_SECRET=$test_secret "$CW_STATE/bin/clerk-sync" sign "$fixture" --id "msg_valgrind_$$")
env -i REQUEST_METHOD=POST CONTENT_LENGTH="$length" GATEWAY_INTERFACE=CGI/1.1 \
    HTTP_SVIX_ID="${signed[0]#svix-id: }" HTTP_SVIX_TIMESTAMP="${signed[1]#svix-timestamp: }" \
    HTTP_SVIX_SIGNATURE="${signed[2]#svix-signature: }" CLERK_WEBHOOK_SIGNING_SECRET="$test_secret" \
    DATABASE_URL="$(cw_database_url clerk_webhook_e2e)" \
    valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 "$dynamic_bin" <"$fixture" >"$CW_STATE/valgrind.out" 2>"$CW_STATE/valgrind.log" ||
    { cat "$CW_STATE/valgrind.log" >&2; exit 1; }
head -n 1 "$CW_STATE/valgrind.out" | grep -q '^Status: 200' || { cat "$CW_STATE/valgrind.out" >&2; exit 1; }
# A run that saw no allocations checked nothing.
grep -q 'total heap usage: [1-9]' "$CW_STATE/valgrind.log" || { cat "$CW_STATE/valgrind.log" >&2; exit 1; }
cw_log "valgrind: $(grep -E 'total heap usage|definitely lost|ERROR SUMMARY' "$CW_STATE/valgrind.log" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')"

if (($# == 0)); then
    cw_log "fuzzing: 100,000 inputs through reading, verification and decoding (Tests/Fuzz/run.sh)"
    "$CW_ROOT/Tests/Fuzz/run.sh" 100000
    cw_log "unit tests under AddressSanitizer and ThreadSanitizer"
    for sanitizer in address thread; do
        (cd "$CW_ROOT" && swift test --scratch-path ".build/sanitize-$sanitizer" --sanitize="$sanitizer" \
            --disable-xctest --filter ClerkWebhookCoreTests 2>&1 | grep -E 'Sanitizer|Test run with|error:')
    done

    # The README's first command as a user runs it: the signed curl line it prints answers 200 and
    # makes the row, and Ctrl-C (SIGINT to its process group, as a terminal sends it) stops
    # everything it started and removes its directory.
    cw_log "scripts/run-local.sh: its curl line, then Ctrl-C"
    printed=$CW_STATE/run-local.txt # what the user's terminal shows (a throwaway secret too), not a log
    # Job control on for this one job: it gets a process group of its own, and SIGINT is not
    # ignored in it (as it would be in a background job of a script, unlike in a terminal).
    set -m
    "$CW_ROOT/scripts/run-local.sh" >"$printed" 2>&1 &
    run_local=$!
    set +m
    CW_PIDS+=("$run_local")
    for _ in {1..1200}; do
        grep -q '^Press Ctrl-C' "$printed" && break
        kill -0 "$run_local" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^Press Ctrl-C' "$printed" || { cat "$printed" >&2; exit 1; }
    local_state=$(dirname "$(sed -n 's/^logs (one JSON line each) *//p' "$printed")")
    local_database=$(sed -n "s/^database (owner) *psql '\(.*\)'\$/\1/p" "$printed")
    answer=$(eval "$(grep -m 1 '^  curl ' "$printed")")
    if [[ $answer != 'HTTP/1.1 200 '* || $answer != *'"outcome":"applied"'* ]]; then
        echo "run-local.sh: its curl line was answered: $answer" >&2
        exit 1
    fi
    rows=$(cw_psql "$local_database" -At -c "SELECT count(*) FROM public.users WHERE email IS NOT NULL")
    [[ $rows == 1 ]] || { echo "run-local.sh: $rows users after its curl line, not 1" >&2; exit 1; }
    kill -INT -- "-$run_local"
    for _ in {1..300}; do
        kill -0 -- "-$run_local" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 -- "-$run_local" 2>/dev/null || [[ -e $local_state ]]; then
        echo "run-local.sh: still running or $local_state still there 30 s after Ctrl-C" >&2
        exit 1
    fi
    # PostgreSQL, nginx and the workers ran in sessions of their own: none may outlive it. (The
    # pattern comes from a file, or grep would find it in its own command line.)
    # grep exits 2 when a process ends while it reads, found or not: what it prints decides.
    left=$(grep -l -s -F -f <(echo "$local_state") /proc/[0-9]*/cmdline || true)
    if [[ -n $left ]]; then
        echo "run-local.sh: still running after Ctrl-C: $left" >&2
        exit 1
    fi
    cw_log "run-local.sh: 200 applied and the row; Ctrl-C stopped it and removed $local_state"
fi

# Everything the stack logged during the whole run (webhook JSON lines from every mode, fcgiwrap,
# nginx): no secret, signature, email or test name may appear. The tests' emails all end in
# @example.com; their names and secrets are listed here.
cw_log "scanning the logs of the whole run for secrets and personal data"
mapfile -t logs < <(find "$CW_STATE" -maxdepth 2 \( -name '*.out' -o -name 'error.log' -o -name 'access.log' \) -type f)
forbidden=(MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_ 'v1,' '@example.com' sk_test_ Lognamefirst Wrongsecret Lovelace)
findings=0
for pattern in "${forbidden[@]}"; do
    if grep -F -l -- "$pattern" "${logs[@]}" >/dev/null 2>&1; then
        echo "log scan: '$pattern' found in: $(grep -F -l -- "$pattern" "${logs[@]}" | tr '\n' ' ')" >&2
        findings=$((findings + 1))
    fi
done
lines=$(cat "${logs[@]}" | wc -l)
cw_log "log scan: ${#logs[@]} files, $lines lines, ${#forbidden[@]} patterns, $findings findings"
((findings == 0))

cw_log "linting"
(cd "$CW_ROOT" && shellcheck -x scripts/*.sh nginx/*.sh bench/*.sh Tests/Fuzz/run.sh .ci/run)
(cd "$CW_ROOT" && pyflakes3 scripts/*.py bench/*.py bench/python/*.py Tests/BadInputCorpus/*.py Tests/ClerkAPIStandIn/*.py)
(cd "$CW_ROOT" && swift format lint --strict --recursive Package.swift Sources Tests)
# The image builds with the Swift release these tests ran on (its build stage runs scripts/build.sh).
image=$(sed -n 's/^ARG SWIFT_IMAGE=swift:\([0-9]*\.[0-9]*\).*/\1/p' "$CW_ROOT/Dockerfile")
toolchain=$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9]*\.[0-9]*\).*/\1/p')
if [[ $image != "$toolchain" ]]; then
    echo "Dockerfile builds with swift:${image:-?}, but these tests ran on Swift ${toolchain:-?}" >&2
    exit 1
fi
# The systemd units as installed (README), their paths pointed at this checkout's files.
units=$CW_STATE/systemd
mkdir -p "$units"
for unit in "$CW_ROOT"/nginx/systemd/*; do
    sed -e "s|/usr/local/bin/|$CW_STATE/bin/|g" -e "s|/usr/share/clerk-webhook/|$CW_ROOT/|g" \
        -e 's|^EnvironmentFile=/|EnvironmentFile=-/|' "$unit" >"$units/$(basename "$unit")"
done
mv "$units/clerk-webhook-workers@.service" "$units/clerk-webhook-workers@warm.service"
unit_files=("$units"/*)
# It only warns about unknown settings and values: any output fails the check too.
verified=$(systemd-analyze verify "${unit_files[@]}" 2>&1) || { echo "$verified" >&2; exit 1; }
[[ -z $verified ]] || { echo "systemd units: $verified" >&2; exit 1; }
cw_log "systemd units: ${#unit_files[@]} verified"
cw_log "all tests passed"

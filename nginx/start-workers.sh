#!/usr/bin/env bash
# Starts the clerk-webhook workers that nginx talks to, in one of the three deployment modes, and
# stays in the foreground (for systemd, containers and the tests; stop it with SIGTERM). The
# workers inherit this environment: CLERK_WEBHOOK_SIGNING_SECRET (or ..._FILE), DATABASE_URL (or
# ..._FILE), CLERK_WEBHOOK_LOG_LEVEL. Nothing secret is ever written into nginx's configuration.
# Each delivery's JSON log line comes out on this script's stderr (journald, docker logs).
#
#   nginx/start-workers.sh MODE SOCKET BINARY [WORKERS]
#
#   cgi         fcgiwrap runs BINARY once per request (a new process each time).
#   warm        spawn-fcgi + multiwatch keep WORKERS processes started, connected to the database
#               and waiting; each serves one request, exits and is replaced.
#   persistent  spawn-fcgi + multiwatch keep WORKERS long-lived processes that reuse their database
#               connection; CLERK_WEBHOOK_RECYCLE_AFTER=N replaces each after N requests (default:
#               never).
set -euo pipefail

if [[ $# -lt 3 ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
mode=$1
socket=$2
binary=$3
workers=${4:-4}

case $mode in
    cgi | warm | persistent) ;;
    *)
        echo "start-workers.sh: unknown mode '$mode' (cgi, warm or persistent)" >&2
        exit 2
        ;;
esac

# Refuse a binary that cannot start (a wrong path, a missing shared library, a crash at start):
# multiwatch would respawn it thousands of times a second and fcgiwrap would fail every delivery.
# Run with no request (stdin /dev/null, no REQUEST_METHOD) it answers once as CGI and exits 0;
# what it prints then (a 405 or a configuration complaint) is not a delivery and is dropped.
status=0
preflight=$(env -u REQUEST_METHOD -u CONTENT_LENGTH "$binary" </dev/null 2>&1 >/dev/null) || status=$?
if ((status != 0)); then
    echo "start-workers.sh: $binary cannot start (exit status $status): ${preflight:-no message}" >&2
    exit 1
fi

rm -f "$socket"
case $mode in
    cgi)
        # fcgiwrap -c N forks N children that go on serving when only their parent gets SIGTERM, so
        # it leads a process group of its own and a TERM or INT here stops that whole group (a CGI
        # program in the middle of a delivery with it: its one statement commits or rolls back, and
        # Svix redelivers what got no answer). Without -f, fcgiwrap passes each CGI's stderr (its
        # JSON log line) on to its own stderr.
        fcgiwrap=
        trap '[[ -z $fcgiwrap ]] || { kill -TERM -- "-$fcgiwrap" 2>/dev/null; wait "$fcgiwrap"; }; exit 0' TERM INT
        setsid /usr/sbin/fcgiwrap -c "$workers" -s "unix:$socket" &
        fcgiwrap=$!
        status=0
        wait "$fcgiwrap" || status=$?
        # fcgiwrap's parent died on its own: its children go too, so a restart finds the socket free.
        kill -TERM -- "-$fcgiwrap" 2>/dev/null || true
        exit "$status"
        ;;
    warm | persistent)
        if [[ $mode == warm ]]; then
            export CLERK_WEBHOOK_MAX_REQUESTS=1
        else
            export CLERK_WEBHOOK_MAX_REQUESTS=${CLERK_WEBHOOK_RECYCLE_AFTER:-0}
        fi
        # spawn-fcgi opens the socket and execs multiwatch on it (fd 0); multiwatch forks the
        # workers and replaces each one that exits. -t 0: multiwatch counts a worker that exits
        # within the timeout (default 10 s) as a failed start and gives its slot up after 3 of them,
        # but a warm worker is meant to exit right after its one request. On SIGTERM multiwatch
        # sends the workers SIGUSR1, which libfcgi treats as "finish the request, then exit".
        spawn_workers() {
            exec /usr/bin/spawn-fcgi -n -s "$socket" -M 0660 -- /usr/bin/multiwatch -f "$workers" -t 0 -- "$binary"
        }
        # multiwatch reports every replaced worker on the same stderr as the workers' log lines. In
        # warm mode that is after every delivery: drop those routine notices and keep everything
        # else. In persistent mode a replaced worker is news (a crash or a recycle), and the log
        # lines reach this script's stderr without a filter process on their way.
        if [[ $mode == warm ]]; then
            spawn_workers 2> >(grep --line-buffered -v '^Child\[[0-9]*\] died, respawn$' >&2) &
        else
            spawn_workers &
        fi
        multiwatch=$!
        # On SIGTERM multiwatch signals its workers once. A worker it forks at that moment (a warm
        # worker replacing one that just answered) can miss it — multiwatch's own handler is still in
        # place until the exec — and would then wait in accept() for ever. So the TERM is passed on
        # every second until multiwatch is gone; multiwatch signals its workers again each time, and
        # a worker in the middle of a delivery still finishes it.
        # shellcheck disable=SC2317  # run by the trap below
        stop_workers() {
            local timer finished=
            while [[ $finished != "$multiwatch" ]] && kill -TERM "$multiwatch" 2>/dev/null; do
                sleep 1 &
                timer=$!
                wait -n -p finished "$multiwatch" "$timer" || true
                kill "$timer" 2>/dev/null || true
            done
        }
        trap 'stop_workers; exit 0' TERM INT
        status=0
        wait "$multiwatch" || status=$?
        exit "$status"
        ;;
esac

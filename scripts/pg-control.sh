#!/usr/bin/env bash
# Stops or starts a throwaway PostgreSQL cluster that scripts/lib.sh created, as the cluster's
# owner (initdb and pg_ctl refuse root). The fault tests use it to take the database away mid-run.
#   scripts/pg-control.sh stop|start DATADIR SOCKETDIR
set -euo pipefail
action=$1 data=$2 sockets=$3
pg_bin=${CW_PG_BIN:-/usr/lib/postgresql/15/bin}
owner=$(stat -c %U "$data")
as_owner=()
[[ $EUID -eq 0 && $owner != root ]] && as_owner=(setpriv --reuid="$owner" --regid="$owner" --init-groups --)
# Close every inherited descriptor but stdin/out/err: the server would keep them open for its
# whole life, and a caller that waits for them to close (Foundation's Process does) would hang.
for fd in "/proc/$$/fd"/*; do
    fd=${fd##*/}
    ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
done
case $action in
    stop) exec "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$data" -m fast -w -t 60 stop ;;
    start)
        exec "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$data/../$(basename "$data").log" -w -t 60 \
            -o "-k $sockets -c listen_addresses=''" start
        ;;
    *) echo "usage: pg-control.sh stop|start DATADIR SOCKETDIR" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs the Debian 12 packages one or more roles need, skipping those already installed.
# The Dockerfile, scripts/lib.sh (so CI) and bench/run.sh call this: CI exercises every list but bench.
#   scripts/install-packages.sh build|runtime|test...
#     build    headers and tools to compile (the Swift toolchain itself is not a Debian package;
#              gcc and binutils build the static libpq's stubs and check the link)
#     runtime  what the deployed binaries and the three nginx deployments need (no libpq5 or
#              libssl3 for them: they link both statically, see scripts/static-link/prepare.sh)
#     test     what scripts/test.sh needs on top: PostgreSQL 15, psql, PgBouncer, openssl (a throwaway
#              TLS certificate), shellcheck, pyflakes3, valgrind, systemd-analyze (checks the units in
#              nginx/systemd)
#     bench    what bench/run.sh needs on top: wrk, a C compiler, Python venvs
set -euo pipefail

declare -A roles=(
    [build]="libpq-dev libssl-dev libfcgi-dev pkg-config gcc libc6-dev binutils"
    [runtime]="libfcgi0ldbl nginx fcgiwrap spawn-fcgi multiwatch curl ca-certificates"
    [test]="postgresql-15 postgresql-client-15 pgbouncer openssl shellcheck pyflakes3 python3 util-linux passwd valgrind systemd"
    [bench]="wrk gcc libc6-dev python3-venv time"
)

if [[ $# -eq 0 ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
wanted=()
for role in "$@"; do
    [[ -n ${roles[$role]:-} ]] || { echo "install-packages.sh: unknown role '$role'" >&2; exit 2; }
    read -ra packages <<<"${roles[$role]}"
    wanted+=("${packages[@]}")
done

missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0

echo "==> installing Debian packages: ${missing[*]}" >&2
sudo=()
[[ $EUID -ne 0 ]] && sudo=(sudo)
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

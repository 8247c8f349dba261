#!/usr/bin/env bash
# Builds the release binaries with the Swift runtime linked statically (faster start, and the
# binaries run where no Swift toolchain is installed), and libpq, OpenSSL and libstdc++ linked
# statically too (scripts/static-link/prepare.sh says why and what it costs). Prints the directory
# that holds them.
# The Dockerfile and scripts/lib.sh (so CI and the benchmark) all call this.
#   CLERK_WEBHOOK_LINK=shared scripts/build.sh   links Debian's shared libraries instead
set -euo pipefail
cd "$(dirname "$0")/.."
case ${CLERK_WEBHOOK_LINK:-static} in
    static) PKG_CONFIG_PATH=$(scripts/static-link/prepare.sh)${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} ;;
    shared) ;;
    *) echo "build.sh: CLERK_WEBHOOK_LINK must be static or shared" >&2; exit 2 ;;
esac
export PKG_CONFIG_PATH
# The two shipped products only (not the fuzzing target).
for product in clerk-webhook clerk-sync; do
    swift build -c release --static-swift-stdlib -Xswiftc -warnings-as-errors --product "$product" >&2
done
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
if [[ ${CLERK_WEBHOOK_LINK:-static} == static ]]; then
    for product in clerk-webhook clerk-sync; do
        # Objects compiled before the switch to pkg-config-only linking still ask for -lpq/-lcrypto.
        if readelf -d "$bin/$product" | grep -Eq 'lib(pq|ssl|crypto|stdc\+\+)\.so'; then
            echo "build.sh: $product still links a shared libpq, OpenSSL or libstdc++ (stale objects?): remove .build/*/release and rebuild" >&2
            exit 1
        fi
    done
fi
echo "$bin"

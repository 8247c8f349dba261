#!/usr/bin/env bash
# Builds the release binaries with the Swift runtime linked statically (faster start, and the
# binaries run where no Swift toolchain is installed), and libpq, OpenSSL and libstdc++ linked
# statically too (scripts/static-link/prepare.sh says why and what it costs); clerk-webhook also
# glibc and libfcgi (below). Prints the directory that holds the two binaries to ship.
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
if [[ ${CLERK_WEBHOOK_LINK:-static} == shared ]]; then
    echo "$bin"
    exit 0
fi
for product in clerk-webhook clerk-sync; do
    # Objects compiled before the switch to pkg-config-only linking still ask for -lpq/-lcrypto.
    if readelf -d "$bin/$product" | grep -Eq 'lib(pq|ssl|crypto|stdc\+\+)\.so'; then
        echo "build.sh: $product still links a shared libpq, OpenSSL or libstdc++ (stale objects?): remove .build/*/release and rebuild" >&2
        exit 1
    fi
done

# The shipped clerk-webhook, which starts once per delivery in CGI mode, links glibc and libfcgi
# statically too, as a static PIE (still position-independent, so its addresses stay randomised):
# no dynamic loader, no shared objects to map and bind. Measured per exec (a 405 answer, no
# database, perf stat, 300 runs): 2.27-2.30 -> 1.92-1.94 ms, 368 -> 328 page faults. It needs lld
# (shipped with the Swift toolchain; gold cannot link a static PIE) and no run path: glibc's
# static-PIE start refuses one. glibc's name lookups (getaddrinfo, getpwuid_r) work as before for
# files and DNS, which glibc 2.34+ builds in; other NSS modules would be loaded from the system's
# glibc, which must then be the same version (it is, in the image). glibc updates reach it by
# rebuilding, like OpenSSL's. Its own build directory: these flags would otherwise rebuild
# everything else each time. The dynamically linked build of the same code stays in $bin, for
# valgrind, which cannot follow malloc in a static binary.
hot=.build/static-pie
swift build -c release --static-swift-stdlib --disable-local-rpath --scratch-path "$hot" \
    -Xswiftc -warnings-as-errors -Xswiftc -use-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-pie \
    --product clerk-webhook 2> >(grep -v -e "warning: Using '[a-z_]*' in statically linked applications" -e "argument unused during compilation: '-pie'" >&2) >&2
hot_bin=$(swift build -c release --scratch-path "$hot" --show-bin-path)
if readelf -l "$hot_bin/clerk-webhook" | grep -q INTERP || ! readelf -h "$hot_bin/clerk-webhook" | grep -q 'DYN '; then
    echo "build.sh: $hot_bin/clerk-webhook is not a static PIE" >&2
    exit 1
fi
out=.build/ship
mkdir -p "$out"
cp "$hot_bin/clerk-webhook" "$bin/clerk-sync" "$out/"
echo "$PWD/$out"

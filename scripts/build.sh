#!/usr/bin/env bash
# Builds the release binaries with the Swift runtime linked statically (faster start, and the
# binaries run where no Swift toolchain is installed). Prints the directory that holds them.
# The Dockerfile and scripts/lib.sh (so CI) both call this.
set -euo pipefail
cd "$(dirname "$0")/.."
# The two shipped products only (not the fuzzing target).
for product in clerk-webhook clerk-sync; do
    swift build -c release --static-swift-stdlib -Xswiftc -warnings-as-errors --product "$product" >&2
done
swift build -c release --static-swift-stdlib --show-bin-path

#!/usr/bin/env bash
# Builds the libFuzzer target (Sources/clerk-webhook-fuzz: request reading, signature verification
# with real OpenSSL, event decoding, statement planning) with AddressSanitizer and runs it from the
# seed corpus in Tests/Fuzz/seeds. Bounded: scripts/test.sh runs 100,000 inputs.
#   Tests/Fuzz/run.sh [RUNS]                  default 100000
#   Tests/Fuzz/run.sh 0 -max_total_time=3600  an hour (RUNS 0 = no run limit); any libFuzzer flag after RUNS
# New interesting inputs go to .local/fuzz-corpus (kept between runs); a crash leaves crash-* files
# in .local/fuzz-artifacts and a non-zero exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-100000}
shift || true
cd "$root"
swift build --scratch-path .build/fuzz --product clerk-webhook-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
    2> >(grep -v 'Cannot export local symbol' >&2) | tail -n 1
mkdir -p .local/fuzz-corpus .local/fuzz-artifacts
limit=()
((runs > 0)) && limit=("-runs=$runs")
log=.local/fuzz-last.log
status=0
.build/fuzz/debug/clerk-webhook-fuzz "${limit[@]}" -max_len=65536 -timeout=10 -print_final_stats=1 \
    -artifact_prefix=.local/fuzz-artifacts/ "$@" .local/fuzz-corpus Tests/Fuzz/seeds >"$log" 2>&1 || status=$?
grep -E '^(Done|INFO: seed corpus|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)|ERROR' "$log" || true
((status == 0)) || echo "fuzz: libFuzzer exited $status; the whole output is in $log" >&2
exit "$status"

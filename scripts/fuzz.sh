#!/usr/bin/env bash
# Fuzzes with libFuzzer (the `fuzz` preset: clang, address and undefined-behaviour sanitizers).
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]      (defaults: all, 60 seconds per target)
#
# Each target starts from its seed corpus (fuzz/corpus/TARGET, read only) and keeps what it finds in
# build/fuzz/work/TARGET, so a longer run goes on from the last one. One line per target when all is
# well; on a crash, a leak, a hang or a broken invariant, the end of libFuzzer's log and the input
# that did it (build/fuzz/artifacts/). Such an input belongs in fuzz/corpus/TARGET, with a test.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-60}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null

if [ "$target" = all ]; then
  targets=$(cd fuzz/corpus && ls)
else
  [ -d "fuzz/corpus/$target" ] || { echo "fuzz.sh: no target $target (have: $(ls fuzz/corpus | tr '\n' ' '))" >&2; exit 2; }
  targets=$target
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
for t in $targets; do
  work=build/fuzz/work/$t
  artifacts=build/fuzz/artifacts
  log=build/fuzz/logs/$t.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  # -timeout: an input that takes longer is a hang; -rss_limit_mb: memory beyond it is a failure.
  if build/fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$artifacts/$t-" -print_final_stats=1 "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t: ${runs:-?} runs in ${seconds}s, $cov, corpus $(ls "$work" | wc -l) files: ok"
  else
    status=1
    echo "fuzz: $t: FAILED (log $log)"
    tail -n 60 "$log"
    grep -o "Test unit written to .*" "$log" || true
  fi
done
exit $status

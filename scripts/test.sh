#!/usr/bin/env bash
# Installs the dependencies and runs the tests in stages (CI runs all of them through .ci/run):
#   release  the release build (what ships): every test but lint (unit, e2e, container, compat, fuzz
#            corpus replay, the installed CMake package)
#   asan     the address + undefined-behaviour sanitizer build (GCC, -O1): the unit and end-to-end tests
#            (container, compat and NRI included) against the sanitized binaries, and the fuzz corpus
#            replay; what measures memory or needs the static binary runs in the release stage only
#            (tests/CMakeLists.txt says which)
#   fuzz     the libFuzzer build: every seed corpus replayed, then each target fuzzed FUZZ_SECONDS (20)
#   lint     checks of the tree itself (layering, a repository that stands alone, formatting)
# Usage: scripts/test.sh [STAGE...] [-- CTEST_ARGS...]     (no stage: all four)
#
# Quiet when all is well: one line per stage. What failed is shown whole (the build's log, or each
# failing test's output); the full logs are in build/logs/. The last line counts every test run:
# "total: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

stages=()
ctest_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; ctest_args=("$@"); break ;;
    release | asan | fuzz | lint) stages+=("$1") ;;
    *) echo "test.sh: unknown stage $1 (release, asan, fuzz, lint)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#stages[@]} -gt 0 ] || stages=(release asan fuzz lint)
jobs=$(nproc)
logs=build/logs
mkdir -p "$logs"

bash scripts/install-deps.sh || exit 1

passed=0
failed=0
status=0

# build PRESET: configures and builds; on failure prints the end of the log.
build() {
  local preset=$1 log=$logs/build-$1.log
  if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j "$jobs"; } >"$log" 2>&1; then
    echo "$preset: BUILD FAILED (log $log)"
    grep -E -B2 -A12 'error:|Error|FAILED:' "$log" | head -n 150
    return 1
  fi
}

# run_ctest STAGE PRESET [ARGS...]: runs CTest; prints its summary line when all pass, and the output
# of every failing test (with the summary and the list of failures) when not.
run_ctest() {
  local stage=$1 preset=$2 log=$logs/ctest-$1.log
  shift 2
  ctest --preset "$preset" -j "$jobs" --output-on-failure "$@" "${ctest_args[@]}" >"$log" 2>&1
  local rc=$?
  local summary
  summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1)
  local total fail
  total=$(sed -nE 's/.* out of ([0-9]+).*/\1/p' <<<"$summary")
  fail=$(sed -nE 's/.*, ([0-9]+) tests? failed.*/\1/p' <<<"$summary")
  passed=$((passed + ${total:-0} - ${fail:-0}))
  failed=$((failed + ${fail:-0}))
  if [ $rc -eq 0 ]; then
    echo "$stage: $summary"
    return 0
  fi
  echo "$stage: FAILED (log $log)"
  # Everything but the lines of tests that passed and ctest's timing tables.
  grep -vE '^ +Start +[0-9]+: |^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed +[0-9.]+ sec$|^Label Time Summary|sec\*proc \(|^Total Test time|^Test project |^$' "$log"
  [ -n "$summary" ] || { failed=$((failed + 1)); echo "$stage: ctest did not run (exit $rc)"; }
  return 1
}

stage_release() {
  build release && run_ctest release release -LE lint
}

stage_asan() {
  build asan && run_ctest asan asan
}

stage_fuzz() {
  build fuzz || return 1
  run_ctest fuzz fuzz || return 1
  local out
  local rc=0
  out=$(bash scripts/fuzz.sh all "${FUZZ_SECONDS:-20}" 2>&1) || rc=1
  echo "$out"
  passed=$((passed + $(grep -c ': ok$' <<<"$out")))
  failed=$((failed + $(grep -c ': FAILED' <<<"$out")))
  return $rc
}

stage_lint() {
  # The lint tests read the tree, not a build: any configured build tree registers them.
  [ -f build/release/CTestTestfile.cmake ] || cmake --preset release >"$logs/configure-lint.log" 2>&1 || {
    echo "lint: configure failed (log $logs/configure-lint.log)"
    return 1
  }
  run_ctest lint release -L lint
}

for stage in "${stages[@]}"; do
  start=$SECONDS
  if ! "stage_$stage"; then status=1; fi
  echo "$stage: $((SECONDS - start)) s"
done
echo "total: $passed passed, $failed failed"
exit $status

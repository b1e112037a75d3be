#!/usr/bin/env bash
# Benchmarks whole-process precreate injection (`cdi-hook hook`, OCI config on
# stdin, stdout to /dev/null) against the Go reference on an 8-GPU NVIDIA-like
# workload, with and without 200 unrelated specs in the spec dir, and prints a
# table with each target marked PASS or FAIL. See bench/README.md.
#
#   sudo bash bench/run.sh [--quick] [--strict] [--keep]
#
#   --quick   a fifth of the runs (a smoke test; figures are noisier)
#   --strict  exit 1 when a target is missed (default: exit 0 once figures are printed)
#   --keep    keep the generated workload (its dir is printed) instead of deleting it
#
# Environment:
#   CDIHOOK_BIN      use this cdi-hook binary instead of building the release preset
#   BENCH_BUILD_DIR  where spawn_bench and the Go peer are built (default build/bench)
#   RUNS_HOOK RUNS_GO RUNS_GO_MANY RUNS_COLD_MANY   timed runs per case (500 100 20 50)
#   BENCH_NICE       niceness of the measured runs (default -10: background work disturbs them less)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
strict=0
keep=0
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --strict) strict=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: bench/run.sh [--quick] [--strict] [--keep]" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh: needs root (the workload's fake device nodes are made with mknod)" >&2
  exit 2
fi

scale() { if [ "$quick" = 1 ]; then echo $(( ($1 + 4) / 5 )); else echo "$1"; fi; }
runs_hook=$(scale "${RUNS_HOOK:-500}")
runs_go=$(scale "${RUNS_GO:-100}")
runs_go_many=$(scale "${RUNS_GO_MANY:-20}")
runs_cold_many=$(scale "${RUNS_COLD_MANY:-50}")
build_dir=${BENCH_BUILD_DIR:-$root/build/bench}
nice_level=${BENCH_NICE:--10}
mkdir -p "$build_dir"

# --- build --------------------------------------------------------------------
if [ -n "${CDIHOOK_BIN:-}" ]; then
  hook_bin=$CDIHOOK_BIN
else
  echo "== building cdi-hook (release preset: scripts/build.sh release)" >&2
  bash "$root/scripts/build.sh" release >&2
  hook_bin=$root/build/release/src/cdi-hook
fi
[ -x "$hook_bin" ] || { echo "bench/run.sh: no cdi-hook binary at $hook_bin" >&2; exit 1; }

spawn_bench=$build_dir/spawn_bench
if [ ! -x "$spawn_bench" ] || [ "$root/bench/spawn_bench.cc" -nt "$spawn_bench" ]; then
  echo "== building spawn_bench" >&2
  g++ -std=c++20 -O2 -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Werror \
    -o "$spawn_bench" "$root/bench/spawn_bench.cc"
fi

go_peer=$build_dir/go-peer
if [ ! -x "$go_peer" ] || [ "$root/bench/go-peer/main.go" -nt "$go_peer" ]; then
  if ! command -v go >/dev/null ||
     [ ! -d /usr/share/gocode/src/github.com/container-orchestrated-devices/container-device-interface ]; then
    bash "$root/scripts/install-deps.sh" >&2
  fi
  echo "== building the Go peer (Debian's CDI package)" >&2
  gopath=$(mktemp -d)
  (cd "$root/bench/go-peer" &&
   GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$build_dir/go-cache" go build -o "$go_peer" .)
  rm -rf "$gopath"
fi

# --- workloads ------------------------------------------------------------------
work=$(mktemp -d /tmp/cdi-bench.XXXXXX)
if [ "$keep" = 0 ]; then trap 'rm -rf "$work"' EXIT; fi
gen() { python3 "$root/bench/gen_nvidia_like.py" "$@" >&2; }
echo "== generating workloads in $work" >&2
gen "$work/one"
gen "$work/many" --others 200
mkdir -m 0700 "$work/cache-one" "$work/cache-many"
# The kind index never records a file changed within the last second.
sleep 1.2

one_dir=$work/one/cdi
many_dir=$work/many/cdi
hook_one=("$hook_bin" hook --spec-dir "$one_dir" --cache-dir "$work/cache-one")
hook_many=("$hook_bin" hook --spec-dir "$many_dir" --cache-dir "$work/cache-many")
hook_one_cold=("$hook_bin" hook --spec-dir "$one_dir" --cache-dir none)
hook_many_cold=("$hook_bin" hook --spec-dir "$many_dir" --cache-dir none)
go_one=("$go_peer" -spec-dir "$one_dir")
go_many=("$go_peer" -spec-dir "$many_dir")

# Both tools must inject the same devices, or the timings compare nothing.
check_outputs() {  # CONFIG HOOK_CMD... -- GO_CMD...
  local config=$1; shift
  local hook_cmd=() go_cmd=()
  while [ "$1" != "--" ]; do hook_cmd+=("$1"); shift; done
  shift
  go_cmd=("$@")
  "${hook_cmd[@]}" <"$config" >"$work/hook.json"
  "${go_cmd[@]}" <"$config" >"$work/go.json"
  python3 - "$work/hook.json" "$work/go.json" <<'EOF'
import json, sys
def summary(path):
    d = json.load(open(path))
    return {
        "device nodes": sorted(x["path"] for x in d.get("linux", {}).get("devices", [])),
        "cgroup rules": len(d.get("linux", {}).get("resources", {}).get("devices", [])),
        "mounts": sorted(m["destination"] for m in d.get("mounts", [])),
        "env": sorted(set(d.get("process", {}).get("env", []))),
        "createContainer hooks": len(d.get("hooks", {}).get("createContainer", [])),
    }
h, g = summary(sys.argv[1]), summary(sys.argv[2])
bad = [k for k in h if h[k] != g[k]]
if bad or len(h["device nodes"]) < 28:
    for k in bad:
        print("bench/run.sh: outputs differ in %s:\n  cdi-hook %s\n  go-peer  %s" % (k, h[k], g[k]), file=sys.stderr)
    sys.exit(1)
print("   %d device nodes, %d mounts, %d hooks, %d env: same in both" % (
    len(h["device nodes"]), len(h["mounts"]), h["createContainer hooks"], len(h["env"])), file=sys.stderr)
EOF
}
echo "== checking that cdi-hook and the Go peer inject the same" >&2
for c in full all; do
  check_outputs "$work/one/config-$c.json" "${hook_one[@]}" -- "${go_one[@]}"
  check_outputs "$work/many/config-$c.json" "${hook_many[@]}" -- "${go_many[@]}"
done

# Warm the kind indexes and check that they hold every spec file.
for _ in 1 2 3; do
  "${hook_one[@]}" <"$work/one/config-full.json" >/dev/null
  "${hook_many[@]}" <"$work/many/config-full.json" >/dev/null
done
indexed=$(for f in "$work"/cache-many/*.idx; do [ -f "$f" ] && tail -n +3 "$f"; done | wc -l)
files=$(find "$many_dir" -name '*.yaml' | wc -l)
echo "== kind index (many): $indexed entries for $files spec files" >&2
if [ "$indexed" -ne "$files" ]; then
  echo "bench/run.sh: the kind index is not warm; the 'many' figures would measure the cold path" >&2
  exit 1
fi

# --- measure ---------------------------------------------------------------------
declare -A result
commands=()
load_start=$(cut -d' ' -f1 /proc/loadavg)
bench() {  # KEY RUNS WARMUP MEM_RUNS STDIN CMD...
  local key=$1 runs=$2 warmup=$3 mem=$4 input=$5
  shift 5
  local cmd=(nice -n "$nice_level" "$spawn_bench" -n "$runs" -w "$warmup" -m "$mem" --stdin "$input" -- "$@")
  commands+=("$key: ${cmd[*]}")
  echo "== $key" >&2
  result[$key]=$("${cmd[@]}")
}
get() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"${result[$1]}"; }

bench true "$runs_hook" 50 5 /dev/null /bin/true
for c in full all; do
  bench "hook-one-$c" "$runs_hook" 20 5 "$work/one/config-$c.json" "${hook_one[@]}"
  bench "go-one-$c" "$runs_go" 5 3 "$work/one/config-$c.json" "${go_one[@]}"
  bench "hook-many-$c" "$runs_hook" 20 5 "$work/many/config-$c.json" "${hook_many[@]}"
done
bench go-many-full "$runs_go_many" 2 2 "$work/many/config-full.json" "${go_many[@]}"
bench hook-one-full-cold "$runs_hook" 20 3 "$work/one/config-full.json" "${hook_one_cold[@]}"
bench hook-many-full-cold "$runs_cold_many" 3 2 "$work/many/config-full.json" "${hook_many_cold[@]}"

# --- report ----------------------------------------------------------------------
nvidia_bytes=$(stat -c %s "$one_dir/nvidia.yaml")
echo
echo "cdi-hook precreate injection benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "machine: $(nproc) CPUs (${cpu:-unknown}), $(uname -r)"
echo "load:    1-minute load average $load_start before measuring, $(cut -d' ' -f1 /proc/loadavg) after"
if awk -v l="$load_start" -v n="$(nproc)" 'BEGIN { exit !(l > n * 0.75) }'; then
  echo "WARNING: the machine was busy: medians are inflated by time slicing; p10 is the steadier figure"
fi
echo "binary:  $hook_bin ($(stat -c %s "$hook_bin") bytes)"
echo "spec:    nvidia.yaml $nvidia_bytes bytes, 8 GPUs (17 devices); 'many' adds 200 specs of other kinds"
echo "configs: full = nvidia.com/gpu=all plus 0..7; all = nvidia.com/gpu=all"
echo
fmt="%-40s %5s %9s %9s %9s %9s %9s %9s\n"
printf "$fmt" "case" "runs" "median" "p10" "p90" "CPU" "VmHWM" "maxrss"
printf "$fmt" "" "" "ms" "ms" "ms" "ms" "KiB" "KiB"
row() {  # LABEL KEY
  printf "$fmt" "$1" "$(get "$2" runs)" "$(get "$2" median_ms)" "$(get "$2" p10_ms)" "$(get "$2" p90_ms)" \
    "$(get "$2" cpu_ms)" "$(get "$2" hwm_kb)" "$(get "$2" maxrss_kb)"
}
row "/bin/true" true
row "cdi-hook, 1 spec, full" hook-one-full
row "cdi-hook, 1 spec, all" hook-one-all
row "Go peer, 1 spec, full" go-one-full
row "Go peer, 1 spec, all" go-one-all
row "cdi-hook, 1+200 specs, full" hook-many-full
row "cdi-hook, 1+200 specs, all" hook-many-all
row "Go peer, 1+200 specs, full" go-many-full
row "cdi-hook, 1 spec, full, no index" hook-one-full-cold
row "cdi-hook, 1+200 specs, full, no index" hook-many-full-cold
echo "(cdi-hook rows use a warm kind index unless 'no index': --cache-dir none, for information;"
echo " CPU is the child's median CPU time, which leaves out waiting for a CPU on a busy machine)"

echo
passed=0
failed=0
check() {  # LABEL VALUE OP LIMIT UNIT
  local verdict
  if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !((op == "<=") ? v <= l : v >= l) }'; then
    verdict=PASS; passed=$((passed + 1))
  else
    verdict=FAIL; failed=$((failed + 1))
  fi
  printf "%-4s  %-52s %9s %s %s%s\n" "$verdict" "$1" "$2" "$3" "$4" "$5"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
max_hwm=0
for key in hook-one-full hook-one-all hook-many-full hook-many-all; do
  h=$(get "$key" hwm_kb)
  [ "$h" -gt "$max_hwm" ] && max_hwm=$h
done
echo "targets"
for c in full all; do
  check "cdi-hook 1 spec ($c): median" "$(get "hook-one-$c" median_ms)" "<=" 1.5 " ms"
  check "cdi-hook 1 spec ($c): median / Go peer median" \
    "$(ratio "$(get "hook-one-$c" median_ms)" "$(get "go-one-$c" median_ms)")" "<=" 0.2 ""
  check "cdi-hook 1+200 specs ($c): median" "$(get "hook-many-$c" median_ms)" "<=" 2 " ms"
  check "cdi-hook 1+200 specs ($c): median / 1-spec median" \
    "$(ratio "$(get "hook-many-$c" median_ms)" "$(get "hook-one-$c" median_ms)")" "<=" 1.3 ""
done
check "cdi-hook peak memory (largest VmHWM above)" "$max_hwm" "<=" 4096 " KiB"
echo
echo "for information"
printf "  %-62s %9s\n" \
  "cdi-hook 1 spec (full) minus /bin/true, ms" \
  "$(awk -v a="$(get hook-one-full median_ms)" -v b="$(get true median_ms)" 'BEGIN { printf "%.3f", a - b }')" \
  "cdi-hook 1+200 specs (full) / Go peer 1+200 specs" \
  "$(ratio "$(get hook-many-full median_ms)" "$(get go-many-full median_ms)")" \
  "cdi-hook no index / warm index, 1 spec (full)" \
  "$(ratio "$(get hook-one-full-cold median_ms)" "$(get hook-one-full median_ms)")" \
  "cdi-hook no index / warm index, 1+200 specs (full)" \
  "$(ratio "$(get hook-many-full-cold median_ms)" "$(get hook-many-full median_ms)")"
echo
echo "commands (spawn_bench: -n timed runs, -w warm-up runs, -m traced runs for VmHWM; stdout to /dev/null)"
for c in "${commands[@]}"; do echo "  $c"; done
echo
echo "targets met: $passed of $((passed + failed))"
if [ "$strict" = 1 ] && [ "$failed" -gt 0 ]; then exit 1; fi
exit 0

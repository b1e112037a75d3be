#!/usr/bin/env bash
# Benchmarks whole-process precreate injection (`cdi-hook hook`, OCI config on
# stdin, stdout to /dev/null) against the Go reference on an 8-GPU NVIDIA-like
# workload, with and without 200 unrelated specs in the spec dir, and prints a
# table with each target marked PASS or FAIL. See bench/README.md.
#
#   sudo bash bench/run.sh [--quick] [--strict] [--keep] [--wait-idle=SECONDS]
#
#   --quick   a fifth of the runs (a smoke test; figures are noisier)
#   --strict  exit 1 when a target is missed (default: exit 0 once figures are printed)
#   --keep    keep the generated workload (its dir is printed) instead of deleting it
#   --wait-idle=SECONDS  before measuring, wait up to SECONDS for the CPUs to be at least 75% idle
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
wait_idle=0
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --strict) strict=1 ;;
    --keep) keep=1 ;;
    --wait-idle=*) wait_idle=${arg#--wait-idle=} ;;
    *) echo "usage: bench/run.sh [--quick] [--strict] [--keep] [--wait-idle=SECONDS]" >&2; exit 2 ;;
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
  hook_bin=$(realpath "$CDIHOOK_BIN")
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
if [ ! -x "$go_peer" ] || [ "$root/tools/go-peer/main.go" -nt "$go_peer" ]; then
  if ! command -v go >/dev/null ||
     [ ! -d /usr/share/gocode/src/github.com/container-orchestrated-devices/container-device-interface ]; then
    bash "$root/scripts/install-deps.sh" >&2
  fi
  echo "== building the Go peer (Debian's CDI package)" >&2
  gopath=$(mktemp -d)
  (cd "$root/tools/go-peer" &&
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
# The index file: a header, the dir, "listing <dir identity> <n>" and n names, then one entry a file.
index_counts() {
  awk 'NR == 3 { if ($2 != "-") listed = $NF; skip = NR + ($2 == "-" ? 0 : $NF); next }
       NR > 3 && NR > skip { entries++ }
       END { print entries + 0, listed + 0 }' "$1"
}
read -r indexed listed < <(for f in "$work"/cache-many/*.idx; do [ -f "$f" ] && index_counts "$f"; done)
files=$(find "$many_dir" -name '*.yaml' | wc -l)
echo "== kind index (many): $indexed entries and a listing of $listed names for $files spec files" >&2
if [ "${indexed:-0}" -ne "$files" ] || [ "${listed:-0}" -ne "$files" ]; then
  echo "bench/run.sh: the kind index is not warm; the 'many' figures would measure the cold path" >&2
  exit 1
fi

# --- measure ---------------------------------------------------------------------
idle_percent() {  # share of CPU time spent idle over the next second
  local a b
  read -r -a a < <(head -n 1 /proc/stat)
  sleep 1
  read -r -a b < <(head -n 1 /proc/stat)
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  echo $(( total > 0 ? 100 * (b[4] - a[4] + b[5] - a[5]) / total : 0 ))
}
if [ "$wait_idle" -gt 0 ]; then
  deadline=$((SECONDS + wait_idle))
  quiet=0
  while [ $SECONDS -lt $deadline ] && [ $quiet -lt 3 ]; do
    if [ "$(idle_percent)" -ge 75 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  done
  [ $quiet -ge 3 ] || echo "== the CPUs did not become idle within $wait_idle s; measuring anyway" >&2
fi
idle_seen=$([ "$wait_idle" -gt 0 ] && [ "$quiet" -ge 3 ] && echo 1 || echo 0)
declare -A result
commands=()
load_start=$(cut -d' ' -f1 /proc/loadavg)
# A group's cases run interleaved in one spawn_bench (see spawn_bench.cc), so that
# background load falls on all of them alike and the ratios between them stay fair.
group=()
add_case() {  # KEY RUNS WARMUP MEM_RUNS STDIN CMD...
  local key=$1 runs=$2 warmup=$3 mem=$4 input=$5
  shift 5
  [ ${#group[@]} -eq 0 ] || group+=(---)
  group+=(--name "$key" -n "$runs" -w "$warmup" -m "$mem" --stdin "$input" -- "$@")
}
run_group() {  # LABEL
  local cmd=(nice -n "$nice_level" "$spawn_bench" "${group[@]}") line key
  commands+=("$(printf '%q ' "${cmd[@]}" | sed 's/ --- / \\\n      --- /g')")
  echo "== measuring: $1" >&2
  while read -r line; do
    key=${line%% *}
    result[${key#name=}]=$line
  done < <("${cmd[@]}")
  group=()
}
get() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"${result[$1]}"; }

add_case true "$runs_hook" 50 5 /dev/null /bin/true
for c in full all; do
  add_case "hook-one-$c" "$runs_hook" 20 5 "$work/one/config-$c.json" "${hook_one[@]}"
  add_case "hook-many-$c" "$runs_hook" 20 5 "$work/many/config-$c.json" "${hook_many[@]}"
  add_case "go-one-$c" "$runs_go" 5 3 "$work/one/config-$c.json" "${go_one[@]}"
done
add_case hook-one-full-cold "$runs_hook" 20 3 "$work/one/config-full.json" "${hook_one_cold[@]}"
run_group "/bin/true, cdi-hook and the Go peer with 1 spec, cdi-hook with 1+200 specs"
add_case go-many-full "$runs_go_many" 2 2 "$work/many/config-full.json" "${go_many[@]}"
add_case hook-many-full-cold "$runs_cold_many" 3 2 "$work/many/config-full.json" "${hook_many_cold[@]}"
run_group "the slow cases: the Go peer and cdi-hook without its index, 1+200 specs"
for key in true hook-one-full hook-one-all hook-many-full hook-many-all go-one-full go-one-all hook-one-full-cold \
           go-many-full hook-many-full-cold; do
  [ -n "${result[$key]:-}" ] || { echo "bench/run.sh: no figures for $key" >&2; exit 1; }
done

# --- report ----------------------------------------------------------------------
nvidia_bytes=$(stat -c %s "$one_dir/nvidia.yaml")
echo
echo "cdi-hook precreate injection benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "machine: $(nproc) CPUs (${cpu:-unknown}), $(uname -r)"
echo "load:    1-minute load average $load_start before measuring, $(cut -d' ' -f1 /proc/loadavg) after"
if [ "$idle_seen" = 1 ]; then
  echo "         (the CPUs were at least 75% idle for 3 s just before measuring; the load average lags)"
elif awk -v l="$load_start" -v n="$(nproc)" 'BEGIN { exit !(l > n * 0.75) }'; then
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
echo "  the target ratios on p10 and on CPU time (steadier when the machine is busy):"
for c in full all; do
  for f in p10_ms cpu_ms; do
    printf "  %-62s %9s\n" \
      "cdi-hook 1 spec ($c) / Go peer, ${f%_ms}" \
      "$(ratio "$(get "hook-one-$c" $f)" "$(get "go-one-$c" $f)")" \
      "cdi-hook 1+200 specs ($c) / 1 spec, ${f%_ms}" \
      "$(ratio "$(get "hook-many-$c" $f)" "$(get "hook-one-$c" $f)")"
  done
done
echo
echo "commands (spawn_bench: cases separated by ---, run interleaved; -n timed runs, -w warm-up runs,"
echo "-m traced runs for VmHWM; stdout to /dev/null)"
for c in "${commands[@]}"; do echo "  $c"; echo; done
echo
echo "targets met: $passed of $((passed + failed))"
if [ "$strict" = 1 ] && [ "$failed" -gt 0 ]; then exit 1; fi
exit 0

#!/usr/bin/env bash
# Compares two cdi-hook binaries side by side on bench/run.sh's 8-GPU workload: the
# same configs and spec dirs, their runs interleaved in one spawn_bench (so that
# background load falls on both alike), and prints per case the median wall time,
# the median CPU time and the peak RSS of each, and their ratio NEW / OLD.
#
#   bash bench/compare.sh OLD_BINARY NEW_BINARY [RUNS]      (as root; RUNS default 400)
#
# Use it to show that a change keeps the figures: build the commit before it
# (git worktree add --detach DIR COMMIT; cmake --preset release; cmake --build
# build/release --target cdi-hook) and pass both binaries. Each binary keeps its
# own kind index (their formats may differ).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: bench/compare.sh OLD_BINARY NEW_BINARY [RUNS]" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench/compare.sh: needs root (the workload's device nodes are made with mknod)" >&2; exit 2; }
old=$(realpath "$1")
new=$(realpath "$2")
runs=${3:-400}
for b in "$old" "$new"; do [ -x "$b" ] || { echo "bench/compare.sh: $b is not an executable" >&2; exit 2; }; done

build_dir=${BENCH_BUILD_DIR:-$root/build/bench}
mkdir -p "$build_dir"
spawn_bench=$build_dir/spawn_bench
if [ ! -x "$spawn_bench" ] || [ "$root/bench/spawn_bench.cc" -nt "$spawn_bench" ]; then
  g++ -std=c++20 -O2 -o "$spawn_bench" "$root/bench/spawn_bench.cc"
fi

work=$(mktemp -d /tmp/cdi-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/gen_nvidia_like.py" "$work/one" >/dev/null
python3 "$root/bench/gen_nvidia_like.py" "$work/many" --others 200 >/dev/null
mkdir -m 0700 "$work/cache-old-one" "$work/cache-old-many" "$work/cache-new-one" "$work/cache-new-many"
sleep 1.2  # the kind index never records a file changed within the last second

# Both binaries must give the same config, or the timings compare nothing.
for set in one many; do
  "$old" hook --spec-dir "$work/$set/cdi" --cache-dir none <"$work/$set/config-full.json" >"$work/old.json"
  "$new" hook --spec-dir "$work/$set/cdi" --cache-dir none <"$work/$set/config-full.json" >"$work/new.json"
  cmp -s "$work/old.json" "$work/new.json" || { echo "bench/compare.sh: the two binaries' outputs differ ($set)" >&2; exit 1; }
  for who in old new; do  # warm each kind index
    bin=$old; [ $who = new ] && bin=$new
    for _ in 1 2 3; do "$bin" hook --spec-dir "$work/$set/cdi" --cache-dir "$work/cache-$who-$set" <"$work/$set/config-full.json" >/dev/null; done
  done
done

args=()
for set in one many; do
  for who in old new; do
    bin=$old; [ $who = new ] && bin=$new
    [ ${#args[@]} -eq 0 ] || args+=(---)
    args+=(--name "$who-$set" -n "$runs" -w 20 -m 5 --stdin "$work/$set/config-full.json" --
           "$bin" hook --spec-dir "$work/$set/cdi" --cache-dir "$work/cache-$who-$set")
  done
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $runs runs a case, interleaved" >&2
nice -n "${BENCH_NICE:--10}" "$spawn_bench" "${args[@]}" >"$work/out"
python3 - "$work/out" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split())
    rows[kv["name"]] = kv
print("| case | old median | new median | new/old | old CPU | new CPU | new/old | old peak RSS | new peak RSS |")
print("|---|---|---|---|---|---|---|---|---|")
for case, label in (("one", "8 GPUs, 1 spec"), ("many", "8 GPUs, 1 + 200 specs")):
    o, n = rows["old-" + case], rows["new-" + case]
    om, nm = float(o["median_ms"]), float(n["median_ms"])
    oc, nc = float(o["cpu_ms"]), float(n["cpu_ms"])
    print("| %s | %.2f ms | %.2f ms | %.2f | %.2f ms | %.2f ms | %.2f | %s KiB | %s KiB |" % (
        label, om, nm, nm / om, oc, nc, nc / oc, o["hwm_kb"], n["hwm_kb"]))
PY

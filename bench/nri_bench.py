#!/usr/bin/env python3
"""Benchmark: CreateContainer round trips through the NRI socket, beside the same work through `cdi-hook hook`.

    bench/nri_bench.py [--rounds N] [--runs N] [--hook-runs N] [--keep]   (as root: the workload's nodes are mknod'ed)

The workload is bench/gen_nvidia_like.py's: an 8-GPU NVIDIA-shaped spec (about 31 KB of YAML), alone ("1
spec") and beside 200 unrelated specs of the same size ("1+200 specs"); the request asks for `all` plus
`0`..`7` ("full") by a cdi.k8s.io/ annotation. The container sent to the plugin is the NRI form of the
workload's OCI config (tests/nri/runtime_apply.py), so both paths inject the same devices.

- nri: build/release/src/nri/nri_bench (the runtime's side in C++, the plugin's own mux and ttrpc code)
  starts cdi-hook-nri as a runtime starts a pre-registered plugin, configures it (runtime containerd
  2.2.1, request timeout 2 s), and times --runs CreateContainer calls one at a time after a warm-up, from
  the request's encoding (ttrpc envelope, mux frames) to the reply read and its status decoded.
- in one process: build/release/src/nri/nri_inprocess runs the plugin's CreateContainer path on the same
  request without a socket or a second process (warm, pinned): the plugin's own code alone.
- hook: bench/spawn_bench.cc times whole `cdi-hook hook` processes on the same OCI config (with its kind
  index warm), as bench/run.sh does.

Each CreateContainer case runs as scheduled (the plugin and the runtime's side on whichever CPUs the
kernel picks) and pinned to one CPU (taskset: the two wake each other on the same CPU), in --rounds
rounds (default 5) that each run every case once: this VM's speed drifts by a fifth over minutes, and
interleaving lets the drift fall on all cases alike. A row gives the median of the rounds' medians (and
their range), the median of their p90s and the worst p99 and max. Beside them, the machine's floor for
the same exchange: bench/pingpong.cc, two processes passing the request's and the answer's sizes over a
Unix socket with no work at all, as scheduled and pinned. On a VM whose idle vCPUs halt (the guest's
halt polling off), each message to an idle vCPU goes through the hypervisor: the floor shows it (unless
the kernel happens to put both on one CPU: then it is the pinned floor), and the script prints the
guest's halt-polling setting when it has one. Then the memory check (--rss-runs requests, pinned: the
plugin's VmRSS after the warm-up and at the end), and the 1-spec case with requests --gap-us apart
(default 1000 us), pinned, and its floor: the plugin's CPU idles between requests, as on a node, where
containers start now and then.

The plugin logs as deploy/nri-conf.d/10-cdi-hook.conf has it: level info (one line per request, written
to a log file once the answer is sent) and syslog on (the default when pre-registered; where there is no
/dev/log, as on this VM, it is tried again every 5 s, not per line).

Columns: round-trip percentiles; the plugin's CPU time per request (user + system from /proc, which
leaves out time spent waiting for a CPU: steadier than wall time on a busy machine).
Targets (printed PASS/FAIL): nri median <= 100 us and p99 <= 1 ms for both spec dirs; plugin RSS after
10,000 requests <= 8 MiB. It is a benchmark, not a test: it prints figures and exits 0.
Environment: CDIHOOK_BUILD_DIR (default build/release), BENCH_NICE (default -10).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "nri"))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split())


def combine(runs):
    """One row from several runs of a case: the median of their medians (and of their p90s and CPU
    times), the worst p99 and max, and the range of the medians."""
    def med(key):
        return statistics.median(float(r[key]) for r in runs)
    out = {"median_us": med("median_us"), "p90_us": med("p90_us"),
           "p99_us": max(float(r["p99_us"]) for r in runs),
           "medians": [float(r["median_us"]) for r in runs]}
    if "max_us" in runs[0]:
        out["max_us"] = max(float(r["max_us"]) for r in runs)
        out["plugin_cpu_us"] = med("plugin_cpu_us")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="rounds; each runs every case once")
    p.add_argument("--runs", type=int, default=2000, help="timed CreateContainer calls per case and round")
    p.add_argument("--warmup", type=int, default=300, help="untimed calls before each run")
    p.add_argument("--rss-runs", type=int, default=10000, help="requests of the memory check, after the warm-up")
    p.add_argument("--gap-us", type=int, default=1000, help="the spacing of the last case's requests")
    p.add_argument("--gap-runs", type=int, default=3000, help="timed requests of the spaced case")
    p.add_argument("--hook-runs", type=int, default=300, help="timed cdi-hook hook runs per case")
    p.add_argument("--keep", action="store_true", help="keep the generated workload")
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/nri_bench.py: needs root (the workload's fake device nodes are made with mknod)")
    build = os.environ.get("CDIHOOK_BUILD_DIR", os.path.join(ROOT, "build", "release"))
    nice = os.environ.get("BENCH_NICE", "-10")
    print("== building cdi-hook, cdi-hook-nri and nri_bench (%s)" % build, file=sys.stderr)
    run(["bash", os.path.join(ROOT, "scripts", "build.sh"), "release"], stdout=subprocess.DEVNULL)
    run(["cmake", "--build", build, "--target", "nri_bench", "nri_inprocess"], stdout=subprocess.DEVNULL)
    plugin = os.path.join(build, "src", "nri", "cdi-hook-nri")
    client = os.path.join(build, "src", "nri", "nri_bench")
    inprocess = os.path.join(build, "src", "nri", "nri_inprocess")
    hook = os.path.join(build, "src", "cdi-hook")
    spawn_bench = os.path.join(ROOT, "build", "bench", "spawn_bench")
    pingpong = os.path.join(ROOT, "build", "bench", "pingpong")
    os.makedirs(os.path.dirname(spawn_bench), exist_ok=True)
    run(["g++", "-std=c++20", "-O2", "-o", spawn_bench, os.path.join(ROOT, "bench", "spawn_bench.cc")])
    run(["g++", "-std=c++20", "-O2", "-o", pingpong, os.path.join(ROOT, "bench", "pingpong.cc")])
    pin = ["taskset", "-c", str(max(os.sched_getaffinity(0)))]

    os.environ.setdefault("CDI_NRI_PROTO_OUT", os.path.join(build, "tests", "nri-proto", "bench"))
    import harness as nh
    import runtime_apply as ra

    work = tempfile.mkdtemp(prefix="cdi-nri-bench.")
    try:
        gen = os.path.join(ROOT, "bench", "gen_nvidia_like.py")
        run([sys.executable, gen, os.path.join(work, "one")], stdout=subprocess.DEVNULL)
        run([sys.executable, gen, os.path.join(work, "many"), "--others", "200"], stdout=subprocess.DEVNULL)
        time.sleep(1.2)  # the hook's kind index never records a file changed within the last second
        results = {}
        for case in ("one", "many"):
            d = os.path.join(work, case)
            with open(os.path.join(d, "config-full.json")) as f:
                config = json.load(f)
            request = nh.api.CreateContainerRequest(pod=nh.pod(name="bench"),
                                                    container=ra.container_from_config(config))
            with open(os.path.join(d, "request.bin"), "wb") as f:
                f.write(request.SerializeToString())
            with open(os.path.join(d, "plugin.conf"), "w") as f:
                f.write("spec-dir = %s\nlog-level = info\nlog-file = %s\n" % (os.path.join(d, "cdi"),
                                                                                os.path.join(d, "plugin.log")))

        def nri(case, prefix, n, name, extra=()):
            d = os.path.join(work, case)
            out = run(prefix + ["nice", "-n", nice, client, "--plugin", plugin, "--config",
                                os.path.join(d, "plugin.conf"), "--request", os.path.join(d, "request.bin"),
                                "-n", str(n), "--name", name] + list(extra), capture_output=True, text=True).stdout
            return fields(out.strip())

        # The round trips: --rounds rounds, each running every case once, so that a noisy stretch of the
        # machine falls on all cases alike and the median of the rounds' medians leaves it out.
        one = os.path.join(work, "one")
        reply = nri("one", pin, 100, "probe", ["-w", "10"])["reply_bytes"]
        sizes = ["--request", str(os.path.getsize(os.path.join(one, "request.bin"))), "--answer", reply]
        rounds = {}
        for r in range(a.rounds):
            print("== round %d of %d: nri and floor, %d requests per case" % (r + 1, a.rounds, a.runs),
                  file=sys.stderr)
            for case in ("one", "many"):
                for placement, prefix in (("", []), ("-pinned", pin)):
                    rounds.setdefault("nri-" + case + placement, []).append(
                        nri(case, prefix, a.runs, "nri-" + case, ["-w", str(a.warmup)]))
            for placement, prefix in (("", []), ("-pinned", pin)):
                out = run(prefix + ["nice", "-n", nice, pingpong, "-n", str(a.runs), "-w", str(a.warmup)] + sizes,
                          capture_output=True, text=True).stdout
                rounds.setdefault("floor" + placement, []).append(fields(out.strip()))
        for key, runs in rounds.items():
            results[key] = combine(runs)
        for case in ("one", "many"):
            print("== nri: %s, memory over %d requests" % (case, a.rss_runs), file=sys.stderr)
            results["rss-" + case] = nri(case, pin, a.rss_runs, "rss-" + case, ["-w", str(a.warmup)])
        for case in ("one", "many"):
            print("== in one process: %s" % case, file=sys.stderr)
            d = os.path.join(work, case)
            out = run(pin + ["nice", "-n", nice, inprocess, "--spec-dir", os.path.join(d, "cdi"), "--request",
                             os.path.join(d, "request.bin"), "-n", str(a.runs * a.rounds)],
                      capture_output=True, text=True).stdout
            results["inprocess-" + case] = fields(out.strip())
        gap = ["-n", str(a.gap_runs), "-w", "200", "--gap-us", str(a.gap_us)]
        print("== nri: one, pinned, %d requests %d us apart" % (a.gap_runs, a.gap_us), file=sys.stderr)
        results["nri-spaced"] = nri("one", pin, a.gap_runs, "nri-spaced", gap[2:])
        out = run(pin + ["nice", "-n", nice, pingpong] + sizes + gap, capture_output=True, text=True).stdout
        results["floor-spaced"] = fields(out.strip())
        for case in ("one", "many"):
            d = os.path.join(work, case)
            config_json = os.path.join(d, "config-full.json")
            cache = os.path.join(d, "cache")
            os.mkdir(cache, 0o700)
            cmd = [hook, "hook", "--spec-dir", os.path.join(d, "cdi"), "--cache-dir", cache]
            for _ in range(3):
                run(cmd, stdin=open(config_json), stdout=subprocess.DEVNULL)
            print("== hook: %s, %d runs" % (case, a.hook_runs), file=sys.stderr)
            out = run(["nice", "-n", nice, spawn_bench, "--name", "hook-" + case, "-n", str(a.hook_runs), "-w", "20",
                       "-m", "3", "--stdin", config_json, "--"] + cmd, capture_output=True, text=True).stdout
            results["hook-" + case] = fields(out.strip())
        report(results, a)
    finally:
        if a.keep:
            print("workload kept in " + work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def spread(row):
    return "%.0f-%.0f" % (min(row["medians"]), max(row["medians"]))


def report(r, a):
    load = open("/proc/loadavg").read().split()[0]
    print("CreateContainer round trip (8-GPU request: all + 0..7), load average %s; %d rounds of %d requests per case "
          "(after %d warm-up), the cases interleaved" % (load, a.rounds, a.runs, a.warmup))
    print()
    print("| case | median | the rounds' medians | p90 | p99 | max | plugin CPU | target | |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case, label in (("one", "1 spec"), ("many", "1 + 200 unrelated 32 KB specs")):
        for placement, where in (("", ""), ("-pinned", ", pinned to one CPU")):
            n = r["nri-" + case + placement]
            med, p99 = n["median_us"], n["p99_us"]
            ok = med <= 100 and p99 <= 1000
            print("| cdi-hook-nri, %s%s | %.1f us | %s us | %.0f us | %.0f us | %.1f ms | %.0f us | median <= 100 us, "
                  "p99 <= 1 ms | %s |" % (label, where, med, spread(n), n["p90_us"], p99, n["max_us"] / 1000,
                                          n["plugin_cpu_us"], "PASS" if ok else "FAIL"))
    for placement, where in (("", ""), ("-pinned", ", pinned to one CPU")):
        f = r["floor" + placement]
        print("| floor: the same bytes between two processes, no work%s | %.0f us | %s us | %.0f us | %.0f us | | | "
              "(the machine's share) | |" % (where, f["median_us"], spread(f), f["p90_us"], f["p99_us"]))
    for case, label in (("one", "1 spec"), ("many", "1 + 200 specs")):
        n = r["inprocess-" + case]
        print("| the plugin's request path in one process (no socket, warm), %s, pinned | %.1f us | | %.0f us | %.0f us "
              "| | | (the plugin's own code) | |" % (label, float(n["median_us"]), float(n["p90_us"]),
                                                   float(n["p99_us"])))
    n, f = r["nri-spaced"], r["floor-spaced"]
    print("| cdi-hook-nri, 1 spec, pinned, requests %d us apart | %.0f us | | %.0f us | %.0f us | %.1f ms | %.0f us | "
          "(the plugin idle between requests) | |" % (a.gap_us, float(n["median_us"]), float(n["p90_us"]),
                                                      float(n["p99_us"]), float(n["max_us"]) / 1000,
                                                      float(n["plugin_cpu_us"])))
    print("| floor, pinned, %d us apart | %.0f us | | %.0f us | %.0f us | | | (the machine's share) | |" % (
        a.gap_us, float(f["median_us"]), float(f["p90_us"]), float(f["p99_us"])))
    for case, label in (("one", "1 spec"), ("many", "1 + 200 specs")):
        h = r["hook-" + case]
        print("| cdi-hook hook (whole process), %s | %.2f ms | | | | | %.2f ms | (for comparison) | |" % (
            label, float(h["median_ms"]), float(h["cpu_ms"])))
    print()
    haltpoll = "/sys/module/haltpoll/parameters/guest_halt_poll_ns"
    if os.path.exists(haltpoll):
        with open(haltpoll) as f:
            ns = f.read().strip()
        print("guest halt polling: guest_halt_poll_ns=%s%s" % (
            ns, " (off: every message to an idle vCPU wakes it through the hypervisor)" if ns == "0" else ""))
    for case in ("one", "many"):
        n = r["rss-" + case]
        rss = int(n["rss_end_kb"])
        print("plugin RSS (%s): %d KiB after the warm-up, %d KiB after %d more requests, peak %d KiB; reply %s "
              "bytes: %s (target <= 8 MiB)" % (case, int(n["rss_warm_kb"]), rss, a.rss_runs, int(n["hwm_kb"]),
                                                n["reply_bytes"], "PASS" if rss <= 8192 else "FAIL"))


if __name__ == "__main__":
    main()

"""Concurrency stress: dozens of hook and inject runs sharing one kind index while another process
creates, rewrites in place, renames over, removes and chmods spec files.

- while it runs: every run ends with exit 0 (a JSON config on stdout) or exit 1 (one stderr line), never
  a crash or a hang; every index file read at any moment is whole and well formed (never torn);
- once it settles: every answer given with the warm index equals the answer without it (--cache-dir none);
- concurrent state-mode hooks on one bundle leave a config.json that parses and holds each device once.
Kept under a minute on two cores.
"""

import concurrent.futures
import json
import os
import random
import signal
import subprocess
import threading
import time

import cdihook as h

KINDS = ["k%d.example/dev" % i for i in range(5)]
FILES = 40  # s00.yaml .. s39.yaml, each defining devices <file>x0 .. <file>x2
# Files the writer never touches after setUp. The kind index never records a file changed within the
# last second, and the writer changes each of the others several times a second: without files that
# age, no index is ever written while the runs go on (what happened under ASan, where the writer gets
# more of the interpreter while the slower runs wait), and the readers have nothing to check.
STABLE = range(25, 30)
MUTABLE = [i for i in range(FILES) if i not in STABLE]
MUTATE_SECONDS = 15
WORKERS = 8


def file_name(i):
    return "s%02d.yaml" % i


def device_names(i):
    return ["s%02dx%d" % (i, j) for j in range(3)]


def spec_text(i, kind, tag):
    out = 'cdiVersion: "0.5.0"\nkind: %s\ndevices:\n' % kind
    for n in device_names(i):
        out += "- name: %s\n  containerEdits:\n    env: [FROM=%s, DEV=%s]\n" % (n, tag, n)
    return out


def check_index_file(data):
    """Raises AssertionError unless `data` is one whole index file as cdi-hook writes it."""
    assert data.endswith(b"\n"), "no final newline: %r" % data[-80:]
    lines = data[:-1].split(b"\n")
    assert lines[0].startswith(b"cdi-hook kind index "), lines[0]
    assert lines[1].startswith(b"dir /"), lines[1]
    assert lines[2].startswith(b"listing "), lines[2]
    rest = lines[3:]
    if lines[2] != b"listing -":
        count = int(lines[2].rsplit(b" ", 1)[1])
        names, rest = rest[:count], rest[count:]
        assert len(names) == count, "listing cut short"
        assert names == sorted(names) and all(b"/" not in n for n in names), names
    for line in rest:
        fields = line.split(b" ", 6)
        assert len(fields) == 7, "entry cut short: %r" % line
        for number in fields[:5]:
            int(number, 16)


class StressTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.rng = random.Random(int(os.environ.get("CDI_E2E_SEED", "0")) or None)
        self.kind_of = {}  # file index -> the kind last written to it (what requests ask for)
        for i in range(30):
            self.kind_of[i] = KINDS[i % len(KINDS)]
            self.write_spec(file_name(i), spec_text(i, self.kind_of[i], "v0"))
        self.config = h.write_file(self.path("config.json"), h.oci_config())
        self.stop = threading.Event()
        self.problems = []
        self.runs = {"hook": 0, "inject": 0, "ok": 0, "failed": 0}
        self.index_reads = 0
        self.lock = threading.Lock()

    # --- the writer -------------------------------------------------------------------------------
    def mutate(self):
        """Create, rewrite in place, rename over, remove and chmod spec files until told to stop."""
        version = 0
        while not self.stop.is_set():
            version += 1
            i = self.rng.choice(MUTABLE)
            name = os.path.join(self.spec_dir, file_name(i))
            kind = self.rng.choice(KINDS)
            tag = "v%d" % version
            op = self.rng.choice(["create", "in_place", "rename_over", "remove", "chmod", "chmod"])
            try:
                if op in ("create", "rename_over"):
                    tmp = name + ".tmp"
                    h.write_file(tmp, spec_text(i, kind, tag))
                    os.replace(tmp, name)
                    self.kind_of[i] = kind
                elif op == "in_place":
                    with open(name, "r+" if os.path.exists(name) else "w") as f:
                        f.truncate(0)
                        f.write(spec_text(i, kind, tag))
                    self.kind_of[i] = kind
                elif op == "remove":
                    os.remove(name)
                else:
                    os.chmod(name, self.rng.choice([0o644, 0o666, 0o600, 0o664]))
            except FileNotFoundError:
                pass
            time.sleep(self.rng.uniform(0, 0.004))

    # --- the readers ------------------------------------------------------------------------------
    def watch_index(self):
        while not self.stop.is_set():
            for name in os.listdir(self.cache_dir) if os.path.isdir(self.cache_dir) else []:
                if not name.endswith(".idx"):
                    continue
                try:
                    with open(os.path.join(self.cache_dir, name), "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    continue
                try:
                    check_index_file(data)
                except (AssertionError, ValueError, IndexError) as e:
                    with self.lock:
                        self.problems.append("torn or malformed index %s: %s" % (name, e))
                with self.lock:
                    self.index_reads += 1
            time.sleep(0.001)

    def one_run(self, rng):
        devices = []
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(FILES)
            devices.append("%s=%s" % (self.kind_of.get(i, KINDS[0]), rng.choice(device_names(i))))
        if rng.random() < 0.5:
            mode = "hook"
            args = [h.binary(), "hook"] + self.common_args(wait=0, log=False)
            stdin = h.to_bytes(h.oci_config({"cdi.k8s.io/stress": ",".join(devices)}))
        else:
            mode = "inject"
            args = [h.binary(), "inject", "--config", self.config] + self.common_args(log=False)
            for d in devices:
                args += ["--device", d]
            stdin = b""
        p = subprocess.run(args, input=stdin, capture_output=True, timeout=30)
        verdict = None
        if p.returncode == 0:
            try:
                json.loads(p.stdout)
            except ValueError:
                verdict = "exit 0 without a JSON config"
        elif p.returncode == 1:
            # The error is the last line (inject shows the scan's warnings before it, and a hook logs each
            # unresolved device it waited for).
            lines = p.stderr.decode(errors="replace").splitlines()
            if p.stdout or not lines or not all(line.startswith("cdi-hook: ") for line in lines):
                verdict = "exit 1 without an error line"
            elif lines[-1].startswith("cdi-hook: warning: "):
                verdict = "exit 1 with a warning last"
        else:
            verdict = "exit %d" % p.returncode
        with self.lock:
            self.runs[mode] += 1
            self.runs["ok" if p.returncode == 0 else "failed"] += 1
            if verdict:
                self.problems.append("%s %s: %s: %r" % (mode, devices, verdict, p.stderr[:600]))

    def run_workers(self):
        def worker(seed):
            rng = random.Random(seed)
            while not self.stop.is_set():
                self.one_run(rng)

        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            futures = [pool.submit(worker, self.rng.random()) for _ in range(WORKERS)]
            for f in futures:
                f.result()

    # --- the test ---------------------------------------------------------------------------------
    def test_concurrent_runs_and_spec_changes(self):
        threads = [threading.Thread(target=self.mutate), threading.Thread(target=self.watch_index),
                   threading.Thread(target=self.run_workers)]
        for t in threads:
            t.start()
        time.sleep(MUTATE_SECONDS)
        self.stop.set()
        for t in threads:
            t.join(timeout=60)
            self.assertFalse(t.is_alive())
        print("\nstress: %(hook)d hook and %(inject)d inject runs (%(ok)d ok, %(failed)d failed)" % self.runs,
              "while specs changed; %d index reads" % self.index_reads)
        self.assertEqual(self.problems, [])
        self.assertGreater(self.runs["hook"] + self.runs["inject"], 200)
        self.assertGreater(self.index_reads, 50)
        self.assertGreater(self.runs["ok"], 0)

        # Settled: once every file is older than the index's racy window, the warm index answers exactly
        # as a full scan does, for every device of every kind (and for the problems it reports).
        time.sleep(1.2)
        present = [i for i in range(FILES) if os.path.exists(os.path.join(self.spec_dir, file_name(i)))]
        asked = ["%s=%s" % (self.kind_of[i], n) for i in present for n in device_names(i)[:2]]
        asked += ["%s=s00x0" % k for k in KINDS] + ["k9.example/dev=none"]
        for device in asked:
            for _ in range(2):  # the first run may update the index; the second reads it warm
                cached = self.inject(self.config, devices=[device], log=False)
            full = self.inject(self.config, devices=[device], log=False, cache=False)
            self.assertEqual((cached.rc, cached.stdout, cached.stderr), (full.rc, full.stdout, full.stderr), device)
        for name in os.listdir(self.cache_dir):
            with open(os.path.join(self.cache_dir, name), "rb") as f:
                check_index_file(f.read())

    def test_concurrent_hooks_on_one_bundle(self):
        stable = h.make_dir(self.path("stable"))
        self.write_spec("dev.yaml", h.basic_spec(self.tmp), directory=stable)
        devices = ["vendor.example/dev=null", "vendor.example/dev=zero"]
        for round_ in range(5):
            bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/a": devices[0], "cdi.k8s.io/b": devices[1]}),
                                      name="bundle-%d" % round_)
            args = [h.binary(), "hook"] + self.common_args(spec_dirs=[stable], wait=0, log=False)
            state = h.to_bytes(h.oci_state(bundle))
            procs = [subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for _ in range(12)]
            for p in procs:
                out, err = p.communicate(state, timeout=30)
                self.assertEqual((p.returncode, out), (0, b""), err)
            config = h.load_json(os.path.join(bundle, "config.json"))
            paths = [d["path"] for d in config["linux"]["devices"]]
            self.assertEqual(sorted(paths), ["/dev/cdi-null", "/dev/cdi-zero"], paths)
            self.assertOnlyConfig(bundle)

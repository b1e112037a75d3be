"""cdi-hook against the reference Go library (Debian's 0.5.2, driven by tools/go-peer): the same
config, spec dirs and requests must give the same edited config.

Only the known differences between 0.5.2 and the semantics cdi-hook targets (reference v1.1.0 plus the
choices in docs/decisions.md), and Go's JSON encoding, are normalised away, on both sides alike:
  - env: duplicate keys collapsed to the last value at the first key's position (0.5.2 appends a
    duplicate for a key the container already had; cdi-hook replaces it in place);
  - mounts: compared per depth group as sets (0.5.2 sorts unstably with a lexical tie-break);
  - fileMode: dropped from device nodes whose spec leaves it unset (0.5.2 does not fill it);
  - empty or false fields dropped (Go's omitempty, e.g. process.terminal=false).
Any other difference fails the test. Specs stay within cdiVersion 0.3.0-0.5.0, the versions 0.5.2
knows, and within names it can validate (its 1-character vendor/class panics).
"""

import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import cdihook as h  # noqa: E402
import specgen  # noqa: E402

GO_CDI_SOURCE = "/usr/share/gocode/src/github.com/container-orchestrated-devices/container-device-interface"


def build_go_peer():
    """Builds go-peer with Debian's Go in GOPATH mode; the binary and Go's build cache live in
    $CDI_COMPAT_BUILD_DIR (CTest: the build tree), else in a temp dir."""
    go = shutil.which("go")
    if go is None:
        raise AssertionError("go is not installed (scripts/install-deps.sh installs golang-go)")
    if not os.path.isdir(GO_CDI_SOURCE):
        raise AssertionError("the Debian CDI Go package is missing (%s); scripts/install-deps.sh installs it"
                             % GO_CDI_SOURCE)
    out_dir = os.environ.get("CDI_COMPAT_BUILD_DIR") or tempfile.mkdtemp(prefix="cdi-compat-")
    os.makedirs(out_dir, exist_ok=True)
    gopath = tempfile.mkdtemp(prefix="cdi-compat-gopath-")
    try:
        env = dict(os.environ, GO111MODULE="off", GOPATH=gopath + ":/usr/share/gocode",
                   GOCACHE=os.path.join(out_dir, "go-cache"), GOFLAGS="", CGO_ENABLED="0")
        binary = os.path.join(out_dir, "go-peer")
        # Built under a name of its own, then renamed: test modules that build it at the same time
        # (ctest -j) never run a half-written binary.
        building = "%s.%d" % (binary, os.getpid())
        source = os.path.join(HERE, "..", "..", "tools", "go-peer")
        p = subprocess.run([go, "build", "-o", building, "."], cwd=source, env=env,
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise AssertionError("go build of go-peer failed:\n" + p.stdout + p.stderr)
        os.replace(building, binary)
        return binary
    finally:
        shutil.rmtree(gopath, ignore_errors=True)


# --- normalisation (applied to both outputs) ---

def strip_empty(value):
    """Drops dict entries that are false, empty or null, recursively (Go's omitempty)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = strip_empty(v)
            if v is False or v is None or v == "" or v == [] or v == {}:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [strip_empty(v) for v in value]
    return value


def collapse_env(env):
    order, last = [], {}
    for e in env:
        k = e.split("=", 1)[0]
        if k not in last:
            order.append(k)
        last[k] = e
    return [last[k] for k in order]


def mount_depth(destination):
    return re.sub("/+", "/", posixpath.normpath(destination)).count("/")


def group_mounts(mounts):
    groups = {}
    for m in mounts:
        groups.setdefault(mount_depth(m.get("destination", "")), []).append(json.dumps(m, sort_keys=True))
    return [(depth, sorted(groups[depth])) for depth in sorted(groups)]


def normalise(config, unset_mode_paths):
    c = strip_empty(config)
    proc = c.get("process")
    if proc and "env" in proc:
        proc["env"] = collapse_env(proc["env"])
    if "mounts" in c:
        c["mounts"] = group_mounts(c["mounts"])
    for d in c.get("linux", {}).get("devices", []):
        if d.get("path") in unset_mode_paths:
            d.pop("fileMode", None)
    return c


def nodes_without_file_mode(spec_texts_and_dicts):
    paths = set()
    for s in spec_texts_and_dicts:
        if isinstance(s, str):
            assert "fileMode" not in s, "text specs here never set fileMode"
            paths.update(m.group(1) for m in re.finditer(r"^\s*- path: (\S+)\s*$", s, re.M))
            continue
        edits = [s.get("containerEdits", {})] + [d["containerEdits"] for d in s["devices"]]
        for e in edits:
            for n in e.get("deviceNodes", []):
                if "fileMode" not in n:
                    paths.add(n["path"])
    return paths


class Case:
    """One comparison: spec files per dir (name -> dict or YAML text), a config, the requests."""

    def __init__(self, name, dirs, config, devices, expect_failure=False):
        self.name, self.dirs, self.config, self.devices = name, dirs, config, devices
        self.expect_failure = expect_failure


class GoCompatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.go_peer = build_go_peer()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cdi-compat-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.nodes = os.path.join(self.tmp, "nodes")

    # --- host material ---
    def node(self, name, kind, major=0, minor=0, mode=0o660):
        path = os.path.join(self.nodes, name)
        if not os.path.exists(path):
            os.makedirs(self.nodes, exist_ok=True)
            if kind == "p":
                os.mkfifo(path, mode)
            else:
                os.mknod(path, mode | (stat.S_IFCHR if kind == "c" else stat.S_IFBLK), os.makedev(major, minor))
            os.chmod(path, mode)
        return path

    def shipped(self, name, transform=None):
        with open(os.path.join(h.SHIPPED_SPECS, name)) as f:
            text = f.read()
        if transform:
            text = transform(text)
        return specgen.localize(text, self.nodes)

    # --- running both ---
    def run_case(self, case):
        dirs = []
        all_specs = []
        for i, files in enumerate(case.dirs):
            d = h.make_dir(os.path.join(self.tmp, case.name.replace(" ", "-"), "dir%d" % i))
            for fname, content in files.items():
                all_specs.append(content)
                if isinstance(content, dict):
                    content = json.dumps(content, indent=1) if fname.endswith(".json") else h.to_yaml(content)
                h.write_file(os.path.join(d, fname), content)
            dirs.append(d)
        config_path = h.write_file(os.path.join(self.tmp, case.name.replace(" ", "-"), "config.json"), case.config)

        ours = ["inject", "--config", config_path, "--cache-dir", "none", "--log-level", "off"]
        go = [self.go_peer, "-config", config_path, "-spec-errors"]
        for d in dirs:
            ours += ["--spec-dir", d]
            go += ["-spec-dir", d]
        for dev in case.devices:
            ours += ["--device", dev]
            go += ["-device", dev]
        mine = h.run(ours)
        ref = subprocess.run(go, capture_output=True, text=True, timeout=60)
        if case.expect_failure:
            self.assertEqual(mine.rc, 1, mine)
            self.assertEqual(ref.returncode, 1, ref.stderr)
            return
        self.assertEqual(ref.returncode, 0, "go-peer failed: " + ref.stderr)
        self.assertNotIn("spec-error", ref.stderr)
        self.assertEqual(mine.rc, 0, mine)
        unset = nodes_without_file_mode(all_specs)
        a = normalise(mine.json(), unset)
        b = normalise(json.loads(ref.stdout), unset)
        self.maxDiff = None
        self.assertEqual(json.dumps(a, indent=1, sort_keys=True), json.dumps(b, indent=1, sort_keys=True),
                         "cdi-hook (first) and the Go reference (second) differ")

    def check(self, cases):
        for case in cases:
            with self.subTest(case.name):
                self.run_case(case)

    # --- the table ---
    def test_shipped_specs(self):
        def as_050(text):  # example.com-char uses spec annotations (0.6.0), unknown to 0.5.2
            text = text.replace('cdiVersion: "0.6.0"', 'cdiVersion: "0.5.0"')
            return re.sub(r"^annotations:\n(  .*\n)+", "", text, flags=re.M)

        char = self.shipped("example.com-char.yaml", as_050)
        self.assertIn('cdiVersion: "0.5.0"', char)
        nvidia = self.shipped("nvidia.com-gpu.yaml")
        vfio = self.shipped("intel.com-sriov_vfio.yaml")
        config = h.oci_config(env=["PATH=/bin", "NVIDIA_VISIBLE_DEVICES=all"])
        self.check([
            Case("example char", [{"example.com-char.yaml": char}], config,
                 ["example.com/char=null", "example.com/char=zero"]),
            Case("nvidia index and uuid", [{"nvidia.com-gpu.yaml": nvidia}], config,
                 ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-8d2c5b1e-3f6a-4b7c-9d0e-1f2a3b4c5d6e"]),
            Case("nvidia all", [{"nvidia.com-gpu.yaml": nvidia}], config, ["nvidia.com/gpu=all"]),
            Case("vfio both functions", [{"intel.com-sriov_vfio.yaml": vfio}], config,
                 ["intel.com/sriov_vfio=0000:3b:02.1", "intel.com/sriov_vfio=0000:3b:02.0"]),
            Case("all shipped together", [{"a.yaml": char, "b.yaml": nvidia, "c.yaml": vfio}], config,
                 ["nvidia.com/gpu=1", "example.com/char=zero", "intel.com/sriov_vfio=0000:3b:02.0"]),
        ])

    def test_generated_nvidia_like(self):
        spec = specgen.nvidia_like(self.nodes, gpus=8, libs=48)
        config = h.oci_config()
        self.check([
            Case("nvidia-like all", [{"nvidia.yaml": spec}], config, ["nvidia.com/gpu=all"]),
            Case("nvidia-like all and overlapping", [{"nvidia.json": spec}], config,
                 ["nvidia.com/gpu=all", "nvidia.com/gpu=3", "nvidia.com/gpu=0"]),
            Case("nvidia-like by uuid", [{"nvidia.yaml": spec}], config,
                 ["nvidia.com/gpu=" + spec["devices"][5]["name"], "nvidia.com/gpu=1"]),
        ])

    def every_kind_spec(self):
        src = h.write_file(os.path.join(self.tmp, "mount-src"), "x")
        return {
            "cdiVersion": "0.5.0",
            "kind": "compat.example/every",
            "containerEdits": {
                "env": ["SPEC_LEVEL=1", "SHARED=spec"],
                "deviceNodes": [{"path": "/dev/compat-spec", "hostPath": self.node("spec", "c", 1, 3)}],
                "hooks": [{"hookName": "prestart", "path": "/usr/bin/spec-hook", "args": ["spec-hook", "pre"],
                           "env": ["HOOK=1"], "timeout": 5}],
                "mounts": [{"hostPath": src, "containerPath": "/spec/mnt", "options": ["ro", "bind"]}],
            },
            "devices": [
                {"name": "full", "containerEdits": {
                    "env": ["SHARED=device", "DEV=full"],
                    "deviceNodes": [
                        {"path": "/dev/compat-fill", "hostPath": self.node("fill", "c", 10, 229)},
                        {"path": "/dev/compat-typed", "hostPath": self.node("typed", "c", 1, 9), "type": "c"},
                        {"path": "/dev/compat-minimal", "type": "c", "major": 240, "minor": 3},
                        {"path": "/dev/compat-minimal-host", "hostPath": self.node("min", "c", 1, 5), "type": "c",
                         "major": 1, "minor": 7},
                        {"path": "/dev/compat-mode", "hostPath": self.node("mode", "c", 1, 8), "fileMode": 0o640,
                         "uid": 1000, "gid": 1001, "permissions": "rw"},
                        {"path": "/dev/compat-uid0", "hostPath": self.node("uid0", "c", 1, 11), "uid": 0,
                         "gid": 0},
                        {"path": "/dev/compat-block", "hostPath": self.node("blk", "b", 7, 9), "permissions": "r"},
                        {"path": "/dev/compat-block-typed", "hostPath": self.node("blk2", "b", 7, 10),
                         "type": "b"},
                        {"path": "/dev/compat-fifo", "hostPath": self.node("fifo", "p")},
                        {"path": "/dev/compat-fifo-typed", "type": "p", "hostPath": "/nonexistent/fifo"},
                        {"path": "/dev/compat-u", "type": "u", "major": 5, "minor": 6,
                         "hostPath": "/nonexistent/u"},
                        {"path": "/dev/compat-m", "hostPath": self.node("m", "c", 1, 4), "permissions": "m"},
                        {"path": "/dev/compat-rwm", "hostPath": self.node("rwm", "c", 1, 2),
                         "permissions": "rwm", "fileMode": 0o666},
                    ],
                    "hooks": [
                        {"hookName": "prestart", "path": "/usr/bin/h1"},
                        {"hookName": "createRuntime", "path": "/usr/bin/h2", "args": ["h2", "--flag"]},
                        {"hookName": "createContainer", "path": "/usr/bin/h3", "env": ["A=1", "B="]},
                        {"hookName": "startContainer", "path": "/usr/bin/h4", "timeout": 0},
                        {"hookName": "poststart", "path": "/usr/bin/h5", "args": ["h5"], "timeout": 30},
                        {"hookName": "poststop", "path": "/usr/bin/h6", "args": ["h6", "x"], "env": ["C=3"],
                         "timeout": 1},
                    ],
                    "mounts": [
                        {"hostPath": src, "containerPath": "/mnt/a", "options": ["rbind", "rw"]},
                        {"hostPath": "tmpfs", "containerPath": "/mnt/tmp", "type": "tmpfs",
                         "options": ["size=1m", "mode=1777"]},
                        {"hostPath": src, "containerPath": "/mnt/noopt"},
                        {"hostPath": "relative/src", "containerPath": "relative/dst", "options": ["bind"]},
                    ],
                }},
                {"name": "second", "containerEdits": {
                    "env": ["DEV=second"],
                    "deviceNodes": [{"path": "/dev/compat-second", "hostPath": self.node("second", "c", 1, 12)}],
                    "hooks": [{"hookName": "createContainer", "path": "/usr/bin/h7"}],
                }},
            ],
        }

    def test_edits_of_every_kind(self):
        spec = self.every_kind_spec()
        base = h.oci_config(user=(0, 0))
        base["hooks"] = {"prestart": [{"path": "/bin/existing-prestart"}],
                         "poststop": [{"path": "/bin/existing-poststop", "args": ["x"]}]}
        base["linux"]["devices"] = [{"path": "/dev/compat-fill", "type": "c", "major": 1, "minor": 1},
                                    {"path": "/dev/unrelated", "type": "c", "major": 1, "minor": 2}]
        user = h.oci_config(user=(1000, 1000))
        bare = h.oci_config(mounts=[])
        del bare["linux"]
        del bare["mounts"]
        self.check([
            Case("every kind", [{"every.yaml": spec}], base, ["compat.example/every=full",
                                                              "compat.example/every=second"]),
            Case("every kind as json", [{"every.json": spec}], base, ["compat.example/every=second",
                                                                      "compat.example/every=full"]),
            Case("uid and gid from process.user", [{"every.yaml": spec}], user, ["compat.example/every=full"]),
            Case("config without linux and mounts", [{"every.yaml": spec}], bare, ["compat.example/every=full"]),
            Case("by annotation", [{"every.yaml": spec}],
                 h.oci_config({"cdi.k8s.io/compat": "compat.example/every=second"}), []),
        ])

    def test_versions_030_to_050(self):
        def versioned(version, kind, edits):
            return {"cdiVersion": version, "kind": kind, "devices": [{"name": "dev", "containerEdits": edits}]}

        specs = {
            "v030.yaml": versioned("0.3.0", "compat.example/v030", {
                "env": ["V=030"], "deviceNodes": [{"path": "/dev/null"}],
                "mounts": [{"hostPath": "/etc/hostname", "containerPath": "/v030/hostname", "options": ["ro"]}],
                "hooks": [{"hookName": "poststop", "path": "/bin/v030"}]}),
            "v040.yaml": versioned("0.4.0", "compat.example/v040", {
                "mounts": [{"hostPath": "none", "containerPath": "/v040/tmp", "type": "tmpfs"}]}),
            "v050.json": versioned("0.5.0", "compat.example/v050", {
                "deviceNodes": [{"path": "/dev/v050", "hostPath": "/dev/zero"}]}),
        }
        self.check([Case("0.3.0 0.4.0 0.5.0 together", [specs], h.oci_config(),
                         ["compat.example/v050=dev", "compat.example/v030=dev", "compat.example/v040=dev"])])

    def test_mounts_at_several_depths(self):
        def m(dest, src="tmpfs", typ="tmpfs"):
            return {"destination": dest, "type": typ, "source": src}

        config = h.oci_config(mounts=[m("/proc", "proc", "proc"), m("/dev"), m("/dev/pts", "devpts", "devpts"),
                                      m("/dev/shm"), m("/sys", "sysfs", "sysfs"), m("/sys/fs/cgroup", "cgroup",
                                                                                    "cgroup"),
                                      m("/etc/hosts", "/h/hosts", "bind"), m("/run/secrets/x", "/h/x", "bind"),
                                      m("/dev/mqueue", "mqueue", "mqueue")])
        mounts = [{"hostPath": "/h/" + str(i), "containerPath": dest, "options": ["bind"]}
                  for i, dest in enumerate(["/b/c/d/e", "/a", "/usr/lib/x86_64-linux-gnu/lib.so", "/b/c", "/z/y",
                                            "/dev/shm", "/opt/", "/x//y", "/q/./r", "/aa"])]
        spec = {"cdiVersion": "0.5.0", "kind": "compat.example/mounts",
                "containerEdits": {"mounts": mounts[:4]},
                "devices": [{"name": "m", "containerEdits": {"mounts": mounts[4:]}},
                            {"name": "n", "containerEdits": {"mounts": [
                                {"hostPath": "/h/n", "containerPath": "/n/1/2/3/4/5"},
                                {"hostPath": "/h/same", "containerPath": "/a"}]}}]}
        self.check([
            Case("mount depths", [{"mounts.yaml": spec}], config, ["compat.example/mounts=m"]),
            Case("mount depths and replacement", [{"mounts.yaml": spec}], config,
                 ["compat.example/mounts=m", "compat.example/mounts=n"]),
        ])

    def test_duplicate_env_keys(self):
        config = h.oci_config(env=["PATH=/bin", "A=1", "B=2", "A=3", "NOVALUE", "EMPTY="])
        spec = {"cdiVersion": "0.5.0", "kind": "compat.example/env",
                "containerEdits": {"env": ["A=9", "C=1", "B=2"]},
                "devices": [{"name": "e1", "containerEdits": {"env": ["NOVALUE=set", "A=10", "C=2", "EMPTY=x"]}},
                            {"name": "e2", "containerEdits": {"env": ["D=1", "D=2", "PATH=/usr/bin:/bin"]}}]}
        self.check([
            Case("duplicate env keys", [{"env.yaml": spec}], config, ["compat.example/env=e1"]),
            Case("duplicate env keys, two devices", [{"env.yaml": spec}], config,
                 ["compat.example/env=e2", "compat.example/env=e1"]),
        ])

    def test_request_order_and_priority(self):
        def kind(k, names, level_env):
            return {"cdiVersion": "0.5.0", "kind": k, "containerEdits": {"env": [level_env], "hooks": [
                {"hookName": "createContainer", "path": "/bin/" + k.split("/")[1]}]},
                "devices": [{"name": n, "containerEdits": {"env": ["ORDER_%s=%s" % (n, k)], "hooks": [
                    {"hookName": "createContainer", "path": "/bin/" + n}]}} for n in names]}

        low = {"aaa.yaml": kind("compat.example/aaa", ["a1", "a2"], "LEVEL=aaa"),
               "bbb.yaml": kind("compat.example/bbb", ["b1"], "LEVEL=bbb")}
        high = {"override.yaml": kind("compat.example/aaa", ["a2", "a3"], "LEVEL=high")}
        self.check([
            Case("interleaved kinds", [low], h.oci_config(),
                 ["compat.example/aaa=a1", "compat.example/bbb=b1", "compat.example/aaa=a2"]),
            Case("higher priority dir wins", [low, high], h.oci_config(),
                 ["compat.example/aaa=a2", "compat.example/aaa=a1", "compat.example/aaa=a3"]),
        ])

    def test_both_refuse(self):
        good = {"cdiVersion": "0.5.0", "kind": "compat.example/ok",
                "devices": [{"name": "d", "containerEdits": {"env": ["OK=1"]}}]}
        bad_env = {"cdiVersion": "0.5.0", "kind": "compat.example/bad",
                   "devices": [{"name": "d", "containerEdits": {"env": ["NOEQUALS"]}}]}
        missing_node = {"cdiVersion": "0.5.0", "kind": "compat.example/node",
                        "devices": [{"name": "d", "containerEdits": {"deviceNodes": [
                            {"path": "/dev/x", "hostPath": "/nonexistent/node"}]}}]}
        config = h.oci_config()
        self.check([
            Case("unknown device", [{"ok.yaml": good}], config, ["compat.example/ok=nope"], expect_failure=True),
            Case("unknown kind", [{"ok.yaml": good}], config, ["compat.example/nokind=d"], expect_failure=True),
            Case("invalid spec", [{"ok.yaml": good, "bad.yaml": bad_env}], config,
                 ["compat.example/ok=d", "compat.example/bad=d"], expect_failure=True),
            Case("missing host node", [{"node.yaml": missing_node}], config, ["compat.example/node=d"],
                 expect_failure=True),
        ])


if __name__ == "__main__":
    unittest.main()

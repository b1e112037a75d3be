"""Shared helpers for the end-to-end tests of the cdi-hook binary.

The binary under test comes from the environment variable CDI_HOOK_BIN (CTest
sets it). Everything a test writes lives in a private temp dir: spec dirs get
mode 0755 and spec files 0644 (cdi-hook ignores group- or world-writable
specs), every run of the binary has a timeout, and its own index cache dir
and log file so that tests never share state with each other or the host.
"""

import json
import os
import re
import resource
import shutil
import stat
import subprocess
import tempfile
import time
import unittest
import uuid

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHIPPED_SPECS = os.path.join(REPO_ROOT, "cdi-specs")
# The hook snippets made from hooks/*.in for the build's install prefix (CTest sets it).
HOOKS_DIR = os.environ.get("CDI_HOOK_HOOKS_DIR") or os.path.join(REPO_ROOT, "build", "release", "hooks")

KATA_TYPE = "io.katacontainers.pkg.oci.container_type"


def binary():
    path = os.environ.get("CDI_HOOK_BIN", "")
    if not path:
        raise RuntimeError("CDI_HOOK_BIN is not set: point it at the built cdi-hook binary")
    if not os.access(path, os.X_OK):
        raise RuntimeError("CDI_HOOK_BIN=%r is not an executable file" % path)
    return path


class Run:
    """What one run of the binary produced."""

    def __init__(self, args, rc, stdout, stderr, elapsed, cpu):
        self.args = args
        self.rc = rc
        self.stdout = stdout  # bytes
        self.stderr = stderr  # str
        self.elapsed = elapsed  # wall seconds
        self.cpu = cpu  # user + system seconds of the child

    @property
    def stderr_lines(self):
        return self.stderr.splitlines()

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return "Run(args=%r, rc=%r, elapsed=%.3f, stdout=%r, stderr=%r)" % (
            self.args, self.rc, self.elapsed, self.stdout[:400], self.stderr[:1000])


def to_bytes(data):
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data).encode()


def run(args, stdin=None, timeout=30, env=None, cwd=None, prefix=()):
    """Runs the binary (behind `prefix`, e.g. setpriv) with args; never raises on a non-zero exit."""
    argv = list(prefix) + [binary()] + list(args)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    p = subprocess.run(argv, input=to_bytes(stdin), capture_output=True, timeout=timeout, env=env, cwd=cwd)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(argv, p.returncode, p.stdout, p.stderr.decode(errors="replace"), elapsed, cpu)


def command_paths():
    """Every command path that --help shows, top level first: [[], ["hook"], ..., ["guest", "translate"]]."""
    out = [[]]
    i = 0
    while i < len(out):
        r = run(out[i] + ["--help"])
        assert r.rc == 0, r
        text = r.stdout.decode()
        if "Subcommands:" in text:
            for name in re.findall(r"^  ([a-z][a-z-]*)\s", text.split("Subcommands:", 1)[1], re.M):
                out.append(out[i] + [name])
        i += 1
    return out


def load_json(path):
    with open(path, "rb") as f:
        return json.load(f)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_file(path, data, mode=0o644):
    """Writes text, bytes or a JSON-able object; the mode is set explicitly (umask does not apply)."""
    if isinstance(data, (dict, list)):
        data = json.dumps(data, indent=1)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(to_bytes(data))
    os.chmod(path, mode)
    return path


def yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)  # a JSON string is a valid YAML 1.2 double-quoted scalar


def to_yaml(value, indent=0):
    """Block-style YAML for dicts, lists and scalars (strings always quoted)."""
    pad = "  " * indent
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out.extend(to_yaml(v, indent + 1).splitlines())
            elif isinstance(v, (dict, list)):
                out.append("%s%s: %s" % (pad, k, "{}" if isinstance(v, dict) else "[]"))
            else:
                out.append("%s%s: %s" % (pad, k, yaml_scalar(v)))
    else:
        for v in value:
            if isinstance(v, (dict, list)) and v:
                sub = to_yaml(v, indent + 1).splitlines()
                out.append(pad + "- " + sub[0].lstrip())
                out.extend(sub[1:])
            else:
                out.append("%s- %s" % (pad, yaml_scalar(v) if not isinstance(v, (dict, list)) else json.dumps(v)))
    return "\n".join(out) + "\n"


def make_dir(path, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    return path


def mknod_char(path, major, minor, mode=0o666):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.mknod(path, mode | stat.S_IFCHR, os.makedev(major, minor))
    os.chmod(path, mode)
    return path


def spec(kind, devices, edits=None, version="0.5.0"):
    """A spec dict; `devices` maps name -> containerEdits."""
    s = {"cdiVersion": version, "kind": kind,
         "devices": [{"name": n, "containerEdits": e} for n, e in devices.items()]}
    if edits:
        s["containerEdits"] = edits
    return s


def oci_config(annotations=None, env=None, mounts=None, user=(0, 0), args=("sh",)):
    """A config.json shaped like `runc spec` output (only fields the Go runtime-spec types know)."""
    c = {
        "ociVersion": "1.0.2",
        "process": {
            "user": {"uid": user[0], "gid": user[1]},
            "args": list(args),
            "env": list(env) if env is not None else ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "cdi-e2e",
        "mounts": list(mounts) if mounts is not None else [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")],
        },
    }
    if annotations is not None:
        c["annotations"] = dict(annotations)
    return c


def oci_state(bundle, container_id="cdi-e2e", status="creating"):
    return {"ociVersion": "1.0.2", "id": container_id, "status": status, "bundle": bundle}


def env_map(config):
    """process.env as a dict (the last entry of a key wins)."""
    out = {}
    for e in config.get("process", {}).get("env", []):
        k, _, v = e.partition("=")
        out[k] = v
    return out


def linux_device(config, path):
    for d in config.get("linux", {}).get("devices", []) or []:
        if d.get("path") == path:
            return d
    return None


def cgroup_rules(config):
    return config.get("linux", {}).get("resources", {}).get("devices", []) or []


def mount_at(config, destination):
    for m in config.get("mounts", []) or []:
        if m.get("destination") == destination:
            return m
    return None


def busybox_path():
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.isfile(p):
            return p
    return shutil.which("busybox")


def busybox_rootfs(rootfs):
    """A rootfs of a static busybox and one symlink per applet; None if busybox is missing."""
    bb = busybox_path()
    if bb is None:
        return None
    bindir = make_dir(os.path.join(rootfs, "bin"))
    shutil.copy2(bb, os.path.join(bindir, "busybox"))
    applets = subprocess.run([bb, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != "busybox" and re.fullmatch(r"[A-Za-z0-9_.\[-]+", a):
            os.symlink("busybox", os.path.join(bindir, a))
    for d in ("dev", "proc", "sys", "etc", "tmp"):
        make_dir(os.path.join(rootfs, d))
    return rootfs


class TestCase(unittest.TestCase):
    """A test with a private temp dir, a spec dir in it, and runners for the binary that pass
    --spec-dir, a private --cache-dir and a --log-file unless told otherwise."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cdi-e2e-")
        os.chmod(self.tmp, 0o755)  # a non-root run (setpriv) must be able to reach into it
        self.addCleanup(self._remove_tmp)
        self.spec_dir = make_dir(os.path.join(self.tmp, "cdi"))
        self.cache_dir = os.path.join(self.tmp, "cache")
        self.log_file = os.path.join(self.tmp, "cdi-hook.log")

    def _remove_tmp(self):
        for root, dirs, _ in os.walk(self.tmp):
            for d in dirs:  # undo chmod 000 so the tree can be removed
                p = os.path.join(root, d)
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- files ---
    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write_spec(self, name, content, directory=None, mode=0o644):
        """content: a dict (written as JSON for .json, as YAML for .yaml) or raw text/bytes."""
        path = os.path.join(directory or self.spec_dir, name)
        if isinstance(content, dict) and name.endswith(".yaml"):
            content = to_yaml(content)
        return write_file(path, content, mode)

    def make_bundle(self, config, mode=0o644, name="bundle"):
        bundle = make_dir(self.path(name))
        make_dir(os.path.join(bundle, "rootfs"))
        write_file(os.path.join(bundle, "config.json"), json.dumps(config, indent=2), mode)
        return bundle

    def log_text(self):
        if not os.path.exists(self.log_file):
            return ""
        with open(self.log_file, encoding="utf-8", errors="replace") as f:
            return f.read()

    # --- runners ---
    def common_args(self, spec_dirs=None, wait=None, log=True, cache=True):
        args = []
        for d in (spec_dirs if spec_dirs is not None else [self.spec_dir]):
            args += ["--spec-dir", d]
        if wait is not None:
            args += ["--wait", str(wait)]
        if log:
            args += ["--log-file", self.log_file]
        args += ["--cache-dir", self.cache_dir if cache else "none"]
        return args

    def hook(self, stdin, extra=(), wait=0, **kw):
        run_kw = {k: kw.pop(k) for k in ("timeout", "env", "cwd", "prefix") if k in kw}
        return run(["hook"] + self.common_args(wait=wait, **kw) + list(extra), stdin=stdin, **run_kw)

    def inject(self, config, devices=(), extra=(), stdin=None, **kw):
        run_kw = {k: kw.pop(k) for k in ("timeout", "env", "cwd", "prefix") if k in kw}
        args = ["inject", "--config", config]
        for d in devices:
            args += ["--device", d]
        return run(args + self.common_args(**kw) + list(extra), stdin=stdin, **run_kw)

    # --- assertions ---
    def assertOk(self, r, stdout_empty=None):
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.stderr, "", r)
        if stdout_empty is True:
            self.assertEqual(r.stdout, b"", r)

    def assertFailure(self, r, *needles):
        """Exit 1, stdout empty, exactly one stderr line `cdi-hook: ...` holding every needle."""
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.stdout, b"", r)
        lines = r.stderr_lines
        self.assertEqual(len(lines), 1, "expected exactly one stderr line: %r" % (r,))
        self.assertTrue(lines[0].startswith("cdi-hook: "), r)
        for n in needles:
            self.assertIn(n, lines[0], r)
        return lines[0]

    def assertUsage(self, r, *needles):
        self.assertEqual(r.rc, 2, r)
        self.assertEqual(r.stdout, b"", r)
        self.assertTrue(r.stderr.startswith("cdi-hook: "), r)
        for n in needles:
            self.assertIn(n, r.stderr, r)

    def assertFileUntouched(self, path, before_bytes, before_stat):
        st = os.stat(path)
        self.assertEqual(read_bytes(path), before_bytes, path)
        self.assertEqual((st.st_ino, st.st_mtime_ns, stat.S_IMODE(st.st_mode)),
                         (before_stat.st_ino, before_stat.st_mtime_ns, stat.S_IMODE(before_stat.st_mode)), path)

    def assertOnlyConfig(self, bundle):
        """No temp files left beside config.json."""
        self.assertEqual(sorted(os.listdir(bundle)), ["config.json", "rootfs"], bundle)


class RuncTestCase(TestCase):
    """A TestCase with Debian's runc (failing, not skipping, when it is missing), a private runc root
    and a container id deleted after the test."""

    id_prefix = "cdi-e2e-"

    def setUp(self):
        super().setUp()
        self.runc = shutil.which("runc")
        if self.runc is None:
            self.fail("runc is not installed (scripts/install-deps.sh installs it)")
        self.root = make_dir(self.path("runc-root"), 0o700)
        self.id = self.id_prefix + uuid.uuid4().hex[:12]

    def tearDown(self):
        subprocess.run([self.runc, "--root", self.root, "delete", "--force", self.id], capture_output=True,
                       timeout=30)
        super().tearDown()


# The spec most tests use: host nodes every Linux box has, an env entry and a bind mount.
def basic_spec(tmp, kind="vendor.example/dev"):
    payload = write_file(os.path.join(tmp, "payload.txt"), "payload\n")
    return spec(kind, {
        "null": {"deviceNodes": [{"path": "/dev/cdi-null", "hostPath": "/dev/null"}],
                 "env": ["CDI_DEVICE=null"],
                 "mounts": [{"hostPath": payload, "containerPath": "/cdi/payload.txt",
                             "options": ["ro", "nosuid", "nodev", "bind"]}]},
        "zero": {"deviceNodes": [{"path": "/dev/cdi-zero", "hostPath": "/dev/zero", "permissions": "r"}],
                 "env": ["CDI_DEVICE=zero"]},
    }, edits={"env": ["CDI_SPEC=1"]})

"""The real-world corpus, tests/realworld-specs (45 spec files from 14 projects; each file's origin is in
its SOURCES.md): every spec validates, or fails exactly where the reference fails, and every device of
every valid spec injects to the same config as the reference Go library (Debian's 0.5.2, driven by
tools/go-peer).

cdi-hook targets the reference's v1.1.0 semantics; Debian's library is 0.5.2, older. Where they differ
the comparison says so:
  - 0.5.2 reads cdiVersion 0.3.0 to 0.5.0 only and knows no annotations, intelRdt, additionalGids or
    netDevices (all added later). A newer spec goes to it as JSON with cdiVersion 0.5.0 and those
    fields taken out (read with a YAML 1.1 reader, PyYAML, as go-yaml reads it); cdi-hook reads the
    file as it is. What was taken out is checked against v1.1.0's rule instead: additionalGids are
    appended to process.user.additionalGids, skipping 0 and GIDs already there. A device left with no
    edits at all gets a placeholder env entry (PLACEHOLDER below) for 0.5.2, taken out of its result.
  - The injected configs are normalised as tests/compat/test_go_compat.py does (duplicate env keys,
    mount order within a depth, fileMode of nodes whose spec leaves it unset, Go's omitempty).
Both tools run on the same fake host: a private mount namespace and chroot whose /dev (and the other
dirs the specs name, such as /driver-root/dev) hold device nodes made with mknod, so the spec files
are used exactly as written. Needs root (mknod, mount, chroot), as the other compat tests do.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import zlib

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)

import cdihook as h  # noqa: E402
import test_go_compat as compat  # noqa: E402

CORPUS = os.path.join(h.REPO_ROOT, "tests", "realworld-specs")

# The files the reference refuses, what `cdi-hook validate` says about each (the lines after the file
# name), and why the reference (v1.1.0) refuses it.
REFUSED = {
    # A JSON object member without its comma: go-yaml stops there too ("did not find expected ',' or '}'").
    "cdi-docs/readme-vendor-annotations.json": [
        "9:9: invalid JSON: Missing a comma or '}' after an object member.",
    ],
    # Proposed cdiVersion 1.2.0 and its deviceCgroupRules: v1.1.0 knows neither (an unknown field is an
    # error of its strict decoder; "1.2.0" is not a version it accepts).
    "cdi-schema-next/good-device-cgroup-rules.json": [
        '2:17: cdiVersion: invalid version "1.2.0": expected one of 0.1.0 ... 0.8.0, 1.0.0, 1.1.0',
        '7:25: devices[0].containerEdits: device "myDevice" has no container edits',
        '8:9: devices[0].containerEdits.deviceCgroupRules: unknown field "deviceCgroupRules"',
        '16:5: containerEdits.deviceCgroupRules: unknown field "deviceCgroupRules"',
    ],
    "cdi-schema-next/good-wildcards.json": [
        '2:17: cdiVersion: invalid version "1.2.0": expected one of 0.1.0 ... 0.8.0, 1.0.0, 1.1.0',
    ],
    # The schema's own negative cases: an empty file ("no Spec data") and {} (no version, kind, devices).
    "cdi-schema/bad-empty.json": ["the file holds no spec (it is empty or null)"],
    "cdi-schema/bad-explicit-empty.json": [
        '1:1: cdiVersion: missing required field "cdiVersion"',
        '1:1: kind: missing required field "kind"',
        '1:1: devices: missing required field "devices"',
    ],
    # cri-o's deliberately broken spec: devices is a string.
    "crio/vendor1-invalid.yaml": ['4:3: devices: expected a sequence, got the scalar "invalid data"'],
    # Kata's design document, as published with typographic quotes: one double-quoted scalar opens with
    # " and closes with a typographic quote, so it never ends.
    "kata/vra-mellanox.yaml": [
        "20:1: invalid YAML: found unexpected end of stream while scanning a quoted scalar started at line 19 "
        "column 13",
    ],
    # Annotations need cdiVersion 0.6.0 (v1.1.0's minimum-version rule); the typographic quotes make the
    # container path relative, which is only a warning.
    "kata/vra-nvidia.yaml": [
        '1:13: cdiVersion: the spec version must be at least v0.6.0 for the fields it uses (declared "0.4.0")',
        '10:13: devices[0].containerEdits.deviceNodes[0].path: warning: container path "\u201c/dev/vfio/71\\""'
        " is not absolute",
    ],
}

# The fields 0.5.2 does not know, all added after 0.5.0.
NEWER_EDITS = ("intelRdt", "additionalGids", "netDevices")
PLACEHOLDER = "CDI_COMPAT_PLACEHOLDER"


def spec_files():
    out = []
    for d, _, names in os.walk(CORPUS):
        out += [os.path.relpath(os.path.join(d, n), CORPUS) for n in names if n.endswith((".json", ".yaml"))]
    return sorted(out)


def load(rel):
    """The spec as the reference reads it (YAML 1.1; JSON first, as PyYAML refuses the tabs in some)."""
    with open(os.path.join(CORPUS, rel), encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def all_edits(spec):
    return [spec.get("containerEdits") or {}] + [(d.get("containerEdits") or {}) for d in spec["devices"]]


def version_of(spec):
    return tuple(int(p) for p in str(spec["cdiVersion"]).lstrip("v").split("."))


def for_debian_library(spec):
    """The spec as Debian's 0.5.2 can read it, and the additionalGids taken out (per device, "" for the
    spec level)."""
    s = json.loads(json.dumps(spec))
    s["cdiVersion"] = "0.5.0"
    s.pop("annotations", None)
    gids = {}
    for where, e in [("", s.get("containerEdits") or {})] + [(d["name"], d.get("containerEdits") or {})
                                                             for d in s["devices"]]:
        for field in NEWER_EDITS:
            value = e.pop(field, None)
            if field == "additionalGids" and value:
                gids[where] = value
            elif value is not None:
                raise AssertionError("%s in a corpus spec: no v1.1.0 rule is checked for it here" % field)
    for d in s["devices"]:
        d.pop("annotations", None)
        if not d.get("containerEdits"):  # 0.5.2 refuses a device without edits
            d["containerEdits"] = {"env": ["%s=%s" % (PLACEHOLDER, d["name"])]}
    return s, gids


def host_node(path, node):
    """Makes the host node a device node entry needs, unless it gives its type and major (or is a fifo):
    both tools then do without one."""
    kind = node.get("type") or "c"
    if kind == "p" or (node.get("type") and node.get("major")):
        return
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    number = zlib.crc32(path.encode())
    os.mknod(path, 0o660 | (stat.S_IFBLK if kind == "b" else stat.S_IFCHR),
             os.makedev(200 + number % 50, number % 256))


# Runs argv with `root` as its /: a private mount namespace gets the system's /usr, /lib* and /proc
# bound in (what a dynamically linked or sanitizer build needs), then chroot.
IN_ROOT = r"""
set -e
R=$1; shift
for d in usr proc; do mkdir -p "$R/$d"; mount --bind "/$d" "$R/$d"; done
for d in lib lib32 lib64 libx32 bin sbin; do
  if [ -L "/$d" ]; then [ -e "$R/$d" ] || ln -s "$(readlink "/$d")" "$R/$d"
  elif [ -d "/$d" ]; then mkdir -p "$R/$d"; mount --bind "/$d" "$R/$d"; fi
done
mkdir -p "$R/etc"
if [ -f /etc/ld.so.cache ]; then touch "$R/etc/ld.so.cache"; mount --bind /etc/ld.so.cache "$R/etc/ld.so.cache"; fi
exec chroot "$R" "$@"
"""


class RealWorldSpecs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = spec_files()
        cls.go_peer = compat.build_go_peer()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cdi-realworld-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_the_corpus_is_complete(self):
        self.assertEqual(len(self.files), 45)
        self.assertEqual(sorted(REFUSED), [f for f in self.files if f in REFUSED])
        with open(os.path.join(CORPUS, "SOURCES.md")) as f:
            sources = f.read()
        for rel in self.files:
            self.assertIn("| %s |" % rel, sources)

    def test_every_spec_validates_or_fails_where_the_reference_does(self):
        for rel in self.files:
            with self.subTest(spec=rel):
                r = h.run(["validate", rel], cwd=CORPUS)
                if rel in REFUSED:
                    self.assertEqual(r.rc, 1, r)
                    # "file:line:col: ..." where a position is known, "file: ..." where not.
                    want = "".join("%s:%s%s\n" % (rel, "" if line[0].isdigit() else " ", line) for line in REFUSED[rel])
                    self.assertEqual(r.stdout.decode(), want)
                else:
                    self.assertEqual(r.rc, 0, r)
                    self.assertRegex(r.stdout.decode(), r"\A%s: valid \(kind [^\n]*\)\n\Z" % rel.replace(".", r"\."))

    def test_the_debian_library_refuses_the_same_files(self):
        # Each file alone in a dir; 0.5.2 gets a newer valid spec down to what it knows.
        for rel in self.files:
            with self.subTest(spec=rel):
                d = os.path.join(self.tmp, rel.replace("/", "_"))
                os.makedirs(d)
                if rel in REFUSED or version_of(load(rel)) <= (0, 5, 0):
                    shutil.copy(os.path.join(CORPUS, rel), d)
                else:
                    with open(os.path.join(d, "spec.json"), "w") as f:
                        json.dump(for_debian_library(load(rel))[0], f)
                p = subprocess.run([self.go_peer, "-spec-dir", d, "-spec-errors"], input="{}", capture_output=True,
                                   text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual("spec-error: " in p.stderr, rel in REFUSED, p.stderr)

    def test_every_device_injects_as_the_reference_does(self):
        root = os.path.join(self.tmp, "root")
        tools = os.path.join(root, "tools")
        os.makedirs(tools)
        shutil.copy(h.binary(), os.path.join(tools, "cdi-hook"))
        shutil.copy(self.go_peer, os.path.join(tools, "go-peer"))
        cases = []
        for rel in self.files:
            if rel in REFUSED:
                continue
            spec = load(rel)
            name = rel.replace("/", "_")
            ours, theirs = os.path.join("/specs", name), os.path.join("/go-specs", name)
            os.makedirs(root + ours)
            os.makedirs(root + theirs)
            shutil.copy(os.path.join(CORPUS, rel), root + ours)
            go_spec, gids = for_debian_library(spec) if version_of(spec) > (0, 5, 0) else (spec, {})
            if go_spec is spec:
                shutil.copy(os.path.join(CORPUS, rel), root + theirs)
            else:
                with open(root + theirs + "/spec.json", "w") as f:
                    json.dump(go_spec, f)
            unset_mode = set()
            for e in all_edits(spec):
                for n in e.get("deviceNodes") or []:
                    host_node(root + (n.get("hostPath") or n["path"]), n)
                    if "fileMode" not in n:
                        unset_mode.add(n["path"])
            names = [d["name"] for d in spec["devices"]]
            for request in [[n] for n in names] + ([names] if len(names) > 1 else []):
                cases.append((rel, spec["kind"], ours, theirs, request, gids, unset_mode))
        self.assertGreater(len(cases), 60)
        config = h.oci_config()
        h.write_file(root + "/config.json", json.dumps(config))
        for rel, kind, ours, theirs, request, gids, unset_mode in cases:
            with self.subTest(spec=rel, devices=request):
                qualified = ["%s=%s" % (kind, n) for n in request]
                mine = self.in_root(root, ["/tools/cdi-hook", "inject", "--config", "/config.json", "--spec-dir", ours,
                                           "--cache-dir", "none", "--log-level", "off"]
                                    + sum((["--device", q] for q in qualified), []))
                ref = self.in_root(root, ["/tools/go-peer", "-config", "/config.json", "-spec-dir", theirs]
                                   + sum((["-device", q] for q in qualified), []))
                self.assertEqual(ref.returncode, 0, ref.stderr)
                self.assertEqual(mine.returncode, 0, mine.stderr)
                a = compat.normalise(json.loads(mine.stdout), unset_mode)
                theirs_config = json.loads(ref.stdout)
                env = theirs_config.get("process", {}).get("env", [])
                env[:] = [e for e in env if not e.startswith(PLACEHOLDER + "=")]
                b = compat.normalise(theirs_config, unset_mode)
                self.check_additional_gids(a, config, request, gids)
                self.assertEqual(json.dumps(a, indent=1, sort_keys=True), json.dumps(b, indent=1, sort_keys=True),
                                 "cdi-hook (first) and the Go reference (second) differ")

    def check_additional_gids(self, got, config, request, gids):
        """v1.1.0: the spec's additionalGids (spec level, then each device in request order) are appended
        to process.user.additionalGids, skipping 0 and GIDs already there. 0.5.2 has no such field, so
        the comparison then goes on without it."""
        want = list(config["process"]["user"].get("additionalGids", []))
        for where in [""] + request:
            for gid in gids.get(where, []):
                if gid != 0 and gid not in want:
                    want.append(gid)
        user = got.get("process", {}).get("user", {})
        self.assertEqual(user.pop("additionalGids", []), want)

    def in_root(self, root, argv):
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", IN_ROOT, "in-root",
                               root] + argv, capture_output=True, text=True, timeout=60)


if __name__ == "__main__":
    unittest.main()

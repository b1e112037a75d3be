"""The spec-author tools: validate (golden bad-spec corpus), list, annotate, inject --diff/--explain,
and the JSON Schema agreeing with the library."""

import glob
import json
import os
import re
import subprocess
import unittest

import cdihook as h

BAD_SPECS = os.path.join(h.REPO_ROOT, "tests", "bad-specs")
SCHEMA = os.path.join(h.REPO_ROOT, "schemas", "cdi-spec.schema.json")


class ValidateGolden(h.TestCase):
    def test_every_bad_spec_gives_its_expected_problems(self):
        # NAME.expected is validate's output; NAME.args, when present, holds extra options (--strict).
        # A file whose lines are all warnings is valid: exit 0.
        cases = sorted(p for p in glob.glob(os.path.join(BAD_SPECS, "*"))
                       if not p.endswith(".expected") and not p.endswith(".args"))
        self.assertGreaterEqual(len(cases), 20)
        for path in cases:
            name = os.path.basename(path)
            with self.subTest(spec=name):
                with open(path + ".expected") as f:
                    expected = f.read()
                args = []
                if os.path.exists(path + ".args"):
                    with open(path + ".args") as f:
                        args = f.read().split()
                r = h.run(["validate"] + args + [name], cwd=BAD_SPECS)
                valid = all(": warning: " in line or line.startswith(name + ": valid (")
                            for line in expected.splitlines())
                self.assertEqual(r.rc, 0 if valid else 1, r)
                self.assertEqual(r.stdout.decode(), expected, r)
                for line in expected.splitlines():
                    self.assertTrue(line.startswith(name + ":"), line)

    def test_shipped_specs_are_valid(self):
        specs = sorted(glob.glob(os.path.join(h.SHIPPED_SPECS, "*.yaml")) + glob.glob(os.path.join(h.SHIPPED_SPECS, "*.json")))
        self.assertGreaterEqual(len(specs), 3)
        r = h.run(["validate"] + specs)
        self.assertEqual(r.rc, 0, r)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), len(specs), r)
        for spec, line in zip(specs, lines):
            self.assertTrue(line.startswith(spec + ": valid (kind "), line)

    def test_a_dir_reports_all_files_and_cross_file_conflicts(self):
        s = h.spec("vendor.example/dev", {"a": {"env": ["A=1"]}})
        self.write_spec("one.yaml", s)
        self.write_spec("two.json", s)
        self.write_spec("broken.yaml", "cdiVersion: [\n")
        self.write_spec("notes.txt", "not a spec")
        r = h.run(["validate", self.spec_dir])
        self.assertEqual(r.rc, 1, r)
        out = r.stdout.decode()
        self.assertIn(self.path("cdi", "broken.yaml") + ":2:1: invalid YAML", out)
        self.assertIn("device \"vendor.example/dev=a\" is also defined in", out)
        self.assertNotIn("notes.txt", out)

    def test_json_output_shape(self):
        self.write_spec("ok.yaml", h.spec("vendor.example/dev", {"a": {"env": ["A=1"]}}))
        self.write_spec("bad.yaml", h.spec("vendor.example/dev", {"b": {"env": ["NOEQUALS"]}}))
        r = h.run(["validate", "--output", "json", self.spec_dir])
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        self.assertFalse(doc["valid"])
        files = {os.path.basename(f["path"]): f for f in doc["files"]}
        self.assertTrue(files["ok.yaml"]["valid"])
        self.assertEqual(files["ok.yaml"]["devices"], ["a"])
        bad = files["bad.yaml"]
        self.assertFalse(bad["valid"])
        self.assertEqual(len(bad["problems"]), 1)
        p = bad["problems"][0]
        self.assertEqual(p["field"], "devices[0].containerEdits.env[0]")
        self.assertGreater(p["line"], 0)
        self.assertIn("NOEQUALS", p["message"])

    def test_strict_adds_host_nodes_absolute_paths_and_annotation_keys(self):
        s = h.spec("vendor.example/dev", {"a": {
            "deviceNodes": [{"path": "/dev/x", "hostPath": "/dev/does-not-exist-cdi"}],
            "mounts": [{"hostPath": "relative/dir", "containerPath": "/m"}]}})
        s["cdiVersion"] = "0.6.0"
        s["annotations"] = {"bad key!": "v"}
        path = self.write_spec("s.yaml", s)
        self.assertEqual(h.run(["validate", path]).rc, 0)
        r = h.run(["validate", "--strict", path])
        self.assertEqual(r.rc, 1, r)
        out = r.stdout.decode()
        self.assertIn("host device \"/dev/does-not-exist-cdi\" does not exist", out)
        self.assertIn("path \"relative/dir\" is not absolute", out)
        self.assertIn("invalid annotation key \"bad key!\"", out)

    def test_warnings_are_shown_apart_and_leave_the_file_valid(self):
        s = h.spec("vendor.example/dev", {"a": {
            "mounts": [{"hostPath": "/etc/hostname", "containerPath": "relative/dst"},
                       {"hostPath": "tmpfs", "containerPath": "/tmp/data", "type": "tmpfs", "options": ["size=1m"]}],
            "deviceNodes": [{"path": "/dev/cdi-minimal", "type": "c", "major": 240, "minor": 1}]}})
        path = self.write_spec("s.json", s)
        r = h.run(["validate", path])
        self.assertEqual(r.rc, 0, r)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), 2, r)
        self.assertRegex(lines[0], r"^%s:\d+:\d+: devices\[0\]\.containerEdits\.mounts\[0\]\.containerPath: "
                         r"warning: container path \"relative/dst\" is not absolute$" % re.escape(path))
        self.assertTrue(lines[1].startswith(path + ": valid (kind vendor.example/dev"), lines[1])
        doc = h.run(["validate", "--output", "json", path]).json()
        self.assertTrue(doc["valid"])
        f = doc["files"][0]
        self.assertEqual(f["problems"], [])
        self.assertEqual(len(f["warnings"]), 1)
        self.assertEqual(f["warnings"][0]["field"], "devices[0].containerEdits.mounts[0].containerPath")
        self.assertGreater(f["warnings"][0]["line"], 0)
        # --strict: the relative container path is an error; the tmpfs source and the node that gives
        # its type and numbers (no host node needed) are fine.
        r = h.run(["validate", "--strict", path])
        self.assertEqual(r.rc, 1, r)
        out = r.stdout.decode()
        self.assertEqual(len(out.splitlines()), 1, r)
        self.assertIn("containerPath: path \"relative/dst\" is not absolute", out)

    def test_world_writable_spec_is_a_problem_unless_allowed(self):
        path = self.write_spec("s.yaml", h.spec("vendor.example/dev", {"a": {"env": ["A=1"]}}), mode=0o666)
        r = h.run(["validate", path])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("writable by every user", r.stdout.decode())
        self.assertEqual(h.run(["validate", "--allow-insecure-specs", path]).rc, 0)

    def test_missing_file_is_named(self):
        r = h.run(["validate", self.path("nope.yaml")])
        self.assertEqual(r.rc, 1, r)
        self.assertIn(self.path("nope.yaml"), r.stdout.decode())

    def test_help(self):
        for cmd in ("validate", "list", "annotate", "runtime", "inject", "hook"):
            r = h.run([cmd, "--help"])
            self.assertEqual(r.rc, 0, r)
            self.assertIn(b"Usage", r.stdout)


class List(h.TestCase):
    def setUp(self):
        super().setUp()
        self.low = h.make_dir(self.path("low"))
        self.high = h.make_dir(self.path("high"))
        kind = "vendor.example/dev"
        self.write_spec("a.yaml", h.spec(kind, {"shadowed": {"env": ["A=1"]}, "clash": {"env": ["A=1"]},
                                                 "only-low": {"env": ["A=1"]}}), self.low)
        self.write_spec("b.yaml", h.spec(kind, {"clash": {"env": ["B=1"]}}), self.low)
        self.write_spec("c.yaml", h.spec(kind, {"shadowed": {"env": ["C=1"]}}), self.high)
        self.write_spec("other.yaml", h.spec("other.example/gpu", {"0": {"env": ["G=0"]}}), self.high)
        self.write_spec("broken.yaml", "cdiVersion: '0.5.0'\nkind: vendor.example/dev\ndevices: 7\n", self.high)

    def list(self, *extra):
        return h.run(["list", "--spec-dir", self.low, "--spec-dir", self.high] + list(extra))

    def test_json_statuses(self):
        r = self.list("--output", "json")
        self.assertEqual(r.rc, 0, r)
        doc = r.json()
        rows = {(d["name"], os.path.basename(d["spec"])): d for d in doc["devices"]}
        self.assertEqual(rows[("vendor.example/dev=shadowed", "c.yaml")]["status"], "ok")
        shadowed = rows[("vendor.example/dev=shadowed", "a.yaml")]
        self.assertEqual(shadowed["status"], "shadowed")
        self.assertEqual(shadowed["shadowedBy"], [os.path.join(self.high, "c.yaml")])
        self.assertEqual(rows[("vendor.example/dev=clash", "a.yaml")]["status"], "conflict")
        self.assertEqual(rows[("vendor.example/dev=clash", "b.yaml")]["conflictsWith"], [os.path.join(self.low, "a.yaml")])
        self.assertEqual(rows[("other.example/gpu=0", "other.yaml")]["priority"], 1)
        self.assertEqual(rows[("vendor.example/dev=only-low", "a.yaml")]["class"], "dev")
        self.assertEqual([d["path"] for d in doc["specDirs"]], [self.low, self.high])
        problems = [p for p in doc["problems"] if p["path"].endswith("broken.yaml")]
        self.assertEqual(len(problems), 1)
        self.assertEqual(problems[0]["errors"][0]["field"], "devices")

    def test_text_views(self):
        out = self.list().stdout.decode()
        self.assertIn("shadowed by " + os.path.join(self.high, "c.yaml"), out)
        self.assertIn("conflict with", out)
        self.assertIn("Problems:", out)
        self.assertEqual(self.list("--vendors").stdout.decode().split(), ["other.example", "vendor.example"])
        self.assertEqual(self.list("--classes").stdout.decode().split(), ["dev", "gpu"])
        specs = self.list("--specs").stdout.decode()
        self.assertIn(os.path.join(self.high, "other.yaml"), specs)
        self.assertIn("other.example/gpu", specs)
        self.assertEqual(self.list("--vendors", "--specs").rc, 2)

    def test_unreadable_dir_is_a_problem_not_a_failure(self):
        r = h.run(["list", "--spec-dir", self.path("low", "a.yaml"), "--spec-dir", self.high, "--output", "json"])
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(any(p["directory"] for p in r.json()["problems"]))


class Annotate(h.TestCase):
    def test_printed_annotation_requests_exactly_those_devices(self):
        self.write_spec("s.yaml", h.basic_spec(self.tmp))
        names = ["vendor.example/dev=zero", "vendor.example/dev=null"]
        r = h.run(["annotate"] + names)
        self.assertEqual(r.rc, 0, r)
        line = r.stdout.decode()
        self.assertTrue(line.endswith("\n") and line.count("\n") == 1, line)
        key, _, value = line.strip().partition("=")
        self.assertRegex(key, r"^cdi\.k8s\.io/[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")
        self.assertEqual(value, ",".join(names))
        cfg = h.write_file(self.path("config.json"), h.oci_config(annotations={key: value}))
        r = self.inject(cfg, extra=["--explain", "--output", "json"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["devices"], names)

    def test_same_devices_same_key_and_json(self):
        a = h.run(["annotate", "--output", "json", "v.example/c=1", "v.example/c=2"]).json()
        b = h.run(["annotate", "--output", "json", "v.example/c=1", "v.example/c=2"]).json()
        self.assertEqual(a, b)
        self.assertEqual(a["value"], "v.example/c=1,v.example/c=2")
        c = h.run(["annotate", "--plugin", "vendor.gpu", "--device-id", "a/b", "v.example/c=1"])
        self.assertEqual(c.stdout.decode(), "cdi.k8s.io/vendor.gpu_a_b=v.example/c=1\n")

    def test_invalid_names_fail(self):
        r = h.run(["annotate", "not-qualified"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("not-qualified", r.stderr)
        self.assertEqual(h.run(["annotate"]).rc, 2)


class InjectDiffExplain(h.TestCase):
    def setUp(self):
        super().setUp()
        self.write_spec("s.yaml", h.basic_spec(self.tmp))
        self.config = h.write_file(self.path("config.json"), h.oci_config())

    def test_diff_is_a_unified_diff_that_patch_applies(self):
        r = self.inject(self.config, ["vendor.example/dev=null"], extra=["--diff"])
        self.assertEqual(r.rc, 0, r)
        diff = r.stdout.decode()
        self.assertTrue(diff.startswith("--- a/" + self.config + "\n+++ b/" + self.config + "\n@@ -"), diff)
        self.assertIn('+      "CDI_DEVICE=null"', diff)
        full = self.inject(self.config, ["vendor.example/dev=null"]).stdout.decode()
        before = h.run(["inject", "--config", self.config, "--cache-dir", "none"]).stdout.decode()
        self.assertEqual(apply_unified_diff(before, diff), full)

    def test_no_devices_no_diff(self):
        r = self.inject(self.config, extra=["--diff"])
        self.assertEqual((r.rc, r.stdout), (0, b""), r)

    def test_explain_names_device_and_spec_file_for_each_edit(self):
        r = self.inject(self.config, ["vendor.example/dev=null", "vendor.example/dev=zero"], extra=["--explain"])
        self.assertEqual(r.rc, 0, r)
        out = r.stdout.decode()
        spec = os.path.join(self.spec_dir, "s.yaml")
        self.assertIn("env: set CDI_SPEC=1  <- spec-level edits of " + spec, out)
        self.assertIn("deviceNode: /dev/cdi-zero (c 1:5) from /dev/zero  <- device vendor.example/dev=zero of " + spec, out)
        self.assertIn("cgroupRule: allow c 1:5 r  <- device vendor.example/dev=zero of " + spec, out)
        self.assertIn("mount: ", out)
        doc = self.inject(self.config, ["vendor.example/dev=null"], extra=["--explain", "--output", "json"]).json()
        self.assertEqual(doc["specFiles"], [spec])
        cats = [(e["category"], e["device"]) for e in doc["edits"]]
        self.assertIn(("env", None), cats)
        self.assertIn(("deviceNode", "vendor.example/dev=null"), cats)
        self.assertIn(("mount", "vendor.example/dev=null"), cats)

    def test_usage_conflicts(self):
        self.assertEqual(self.inject(self.config, extra=["--diff", "--explain"]).rc, 2)
        self.assertEqual(self.inject(self.config, extra=["--output", "json"]).rc, 2)


def apply_unified_diff(text, diff):
    """Applies a unified diff (as inject --diff writes it) to text, checking every context line."""
    src = text.splitlines()
    out = []
    pos = 0
    lines = diff.splitlines()[2:]
    i = 0
    while i < len(lines):
        header = lines[i]
        assert header.startswith("@@ -"), header
        start = int(header[4:].split(",")[0].split(" ")[0])
        i += 1
        if start > 0:
            start -= 1
        out.extend(src[pos:start])
        pos = start
        while i < len(lines) and not lines[i].startswith("@@"):
            tag, body = lines[i][0], lines[i][1:]
            if tag == " ":
                assert src[pos] == body, (src[pos], body)
                out.append(body)
                pos += 1
            elif tag == "-":
                assert src[pos] == body, (src[pos], body)
                pos += 1
            else:
                out.append(body)
            i += 1
    out.extend(src[pos:])
    return "\n".join(out) + "\n"


FULL_SPEC = {
    "cdiVersion": "1.1.0",
    "kind": "vendor.example/all-fields",
    "annotations": {"vendor.example/x": "y"},
    "containerEdits": {
        "env": ["A=1"],
        "deviceNodes": [{"path": "/dev/a", "hostPath": "/dev/null", "type": "c", "major": 1, "minor": 3,
                         "fileMode": 438, "permissions": "rw", "uid": 1000, "gid": 1000}],
        "hooks": [{"hookName": "createContainer", "path": "/bin/true", "args": ["true"], "env": ["X=1"], "timeout": 5}],
        "mounts": [{"hostPath": "/tmp", "containerPath": "/t", "options": ["ro", "bind"], "type": "bind"}],
        "intelRdt": {"closID": "c1", "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=50", "schemata": ["L2:0=3"],
                     "enableMonitoring": True},
        "additionalGids": [44, 45],
        "netDevices": [{"hostInterfaceName": "eth1", "name": "net1"}],
    },
    "devices": [{"name": "0", "annotations": {"k": "v"}, "containerEdits": {"env": ["B=2"]}},
                {"name": "pci:0000:01:00.0", "containerEdits": {"deviceNodes": [{"path": "/dev/b", "type": "p"}]}}],
}


class SchemaAgreement(h.TestCase):
    """The shipped JSON Schema, run by python3-jsonschema, accepts what the library accepts and
    rejects the structurally broken specs the library rejects."""

    def setUp(self):
        super().setUp()
        import jsonschema  # Debian's python3-jsonschema, installed by scripts/install-deps.sh
        with open(SCHEMA) as f:
            schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(schema)
        self.validator = jsonschema.Draft7Validator(schema)

    def test_valid_specs_pass_both(self):
        specs = [FULL_SPEC, h.spec("vendor.example/dev", {"a": {"env": ["A=1"]}}, version="0.3.0"),
                 h.spec("v.example/c", {"x": {"mounts": [{"hostPath": "/a", "containerPath": "/b"}]}}, version="v1.0.0")]
        for i, doc in enumerate(specs):
            with self.subTest(spec=i):
                path = self.write_spec("s%d.json" % i, json.dumps(doc))
                r = h.run(["validate", path])
                self.assertEqual(r.rc, 0, r)
                self.assertTrue(self.validator.is_valid(doc), list(self.validator.iter_errors(doc))[:1])

    def test_structurally_broken_specs_fail_both(self):
        mutations = {
            "unknown_top_field": lambda d: d.update(extra=1),
            "unknown_node_field": lambda d: d["containerEdits"]["deviceNodes"][0].update(frob=1),
            "major_as_string": lambda d: d["containerEdits"]["deviceNodes"][0].update(major="1"),
            "negative_uid": lambda d: d["containerEdits"]["deviceNodes"][0].update(uid=-1),
            "bad_hook_name": lambda d: d["containerEdits"]["hooks"][0].update(hookName="preStart"),
            "env_without_equals": lambda d: d["containerEdits"].update(env=["NOEQUALS"]),
            "no_devices": lambda d: d.update(devices=[]),
            "bad_version": lambda d: d.update(cdiVersion="2.0.0"),
            "bad_kind": lambda d: d.update(kind="9v/c"),
            "bad_device_name": lambda d: d["devices"][0].update(name="-x"),
            "removed_enable_cmt": lambda d: d["containerEdits"]["intelRdt"].update(enableCMT=True),
            "gid_fraction": lambda d: d["containerEdits"].update(additionalGids=[1.5]),
            "bad_permissions": lambda d: d["containerEdits"]["deviceNodes"][0].update(permissions="rwx"),
            "missing_container_path": lambda d: d["containerEdits"]["mounts"][0].pop("containerPath"),
        }
        for name, mutate in mutations.items():
            with self.subTest(mutation=name):
                doc = json.loads(json.dumps(FULL_SPEC))
                mutate(doc)
                path = self.write_spec(name + ".json", json.dumps(doc))
                r = h.run(["validate", path])
                self.assertEqual(r.rc, 1, r)
                self.assertFalse(self.validator.is_valid(doc), name)

    def test_bad_corpus_json_files(self):
        for path in glob.glob(os.path.join(BAD_SPECS, "*.json")):
            with self.subTest(spec=os.path.basename(path)):
                try:
                    doc = load_spec_as_json(path)
                except ValueError:
                    continue
                if self.validator.is_valid(doc):
                    continue  # the corpus also holds semantic problems a schema cannot see
                r = h.run(["validate", "--allow-insecure-specs", path])
                self.assertEqual(r.rc, 1, r)


def load_spec_as_json(path):
    """A JSON spec file as data; ValueError when it does not parse."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise ValueError(str(e))


if __name__ == "__main__":
    unittest.main()

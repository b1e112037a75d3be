"""Bad input: exit 1, exactly one stderr line naming the culprit, and nothing lost.

Every spec case runs in three modes against the same spec dir:
  state      hook with an OCI state: config.json byte-for-byte unchanged, no temp files in the bundle;
  precreate  hook with the config on stdin: stdout empty;
  in-place   inject --in-place: the config file untouched.
A broken spec the request does not need must not block a good device beside it.
"""

import json
import os
import shutil
import unittest

import cdihook as h

KIND = "vendor.example/dev"
DEVICE = KIND + "=a"
GOOD = KIND + "=good"  # defined in good.yaml, beside every broken file


def yaml_spec(edits="    env: [A=1]\n", version='"0.5.0"', name="a", kind=KIND):
    return 'cdiVersion: %s\nkind: %s\ndevices:\n- name: %s\n  containerEdits:\n%s' % (version, kind, name, edits)


def deep_flow_yaml(levels):
    return 'cdiVersion: "0.5.0"\nkind: %s\ndevices: %s%s\n' % (KIND, "[" * levels, "]" * levels)


def deep_mapping_yaml(levels):
    return 'cdiVersion: "0.5.0"\nkind: %s\ndevices: %s1%s\n' % (KIND, "{a: " * levels, "}" * levels)


def big_yaml():
    pad = ("# " + "x" * 1021 + "\n") * (17 * 1024)  # 17 MiB of comments after a valid spec
    return yaml_spec() + pad


# name, files, needles, expect_warning (the broken file is named in the log when the good device is
# requested: it carries the requested kind), spec-dir override ("file" = a file where a dir should be).
SPEC_CASES = [
    ("truncated json", {"bad.json": '{"cdiVersion": "0.5.0", "kind": "%s", "devices": [{"name": "a", ' % KIND},
     ["bad.json", "invalid JSON", DEVICE], True),
    ("truncated yaml", {"bad.yaml": yaml_spec("    env: [A=1")}, ["bad.yaml", "invalid YAML", DEVICE], True),
    ("malformed yaml", {"bad.yaml": 'cdiVersion: "0.5.0"\nkind: %s\ndevices:\n- name: a\n containerEdits: x: y\n'
                        % KIND}, ["bad.yaml", DEVICE], True),
    ("env not a sequence", {"bad.yaml": yaml_spec("    env: A=1\n")},
     ["bad.yaml", "devices[0].containerEdits.env", DEVICE], True),
    ("major not an integer", {"bad.yaml": yaml_spec("    deviceNodes: [{path: /dev/x, major: x}]\n")},
     ["bad.yaml", "devices[0].containerEdits.deviceNodes[0].major", DEVICE], True),
    ("devices a mapping", {"bad.json": {"cdiVersion": "0.5.0", "kind": KIND, "devices": {"name": "a"}}},
     ["bad.json", "devices", DEVICE], True),
    ("unknown field", {"bad.yaml": yaml_spec("    envs: [A=1]\n")}, ["bad.yaml", '"envs"', DEVICE], True),
    ("unknown field in json", {"bad.json": {"cdiVersion": "0.5.0", "kind": KIND, "x-extra": 1,
                                            "devices": [{"name": "a", "containerEdits": {"env": ["A=1"]}}]}},
     ["bad.json", '"x-extra"', DEVICE], True),
    ("invalid device name", {"bad.yaml": yaml_spec(name="-a")}, ["bad.yaml", "devices[0].name", '"-a"', DEVICE],
     True),
    ("invalid env entry", {"bad.yaml": yaml_spec("    env: [A]\n")},
     ["bad.yaml", "devices[0].containerEdits.env[0]", DEVICE], True),
    ("invalid hook name", {"bad.yaml": yaml_spec("    hooks: [{hookName: preStart, path: /bin/true}]\n")},
     ["bad.yaml", "devices[0].containerEdits.hooks[0]", DEVICE], True),
    ("invalid permissions", {"bad.yaml": yaml_spec("    deviceNodes: [{path: /dev/x, permissions: rwx}]\n")},
     ["bad.yaml", "devices[0].containerEdits.deviceNodes[0]", DEVICE], True),
    ("unknown version", {"bad.yaml": yaml_spec(version='"0.9.9"')}, ["bad.yaml", "cdiVersion", DEVICE], True),
    ("version too low", {"bad.yaml": yaml_spec("    deviceNodes: [{path: /dev/x, hostPath: /dev/null}]\n",
                                               version='"0.3.0"')}, ["bad.yaml", "cdiVersion", DEVICE], True),
    ("device defined twice", {"bad.yaml": yaml_spec() + "- name: a\n  containerEdits:\n    env: [B=1]\n"},
     ["bad.yaml", "devices[1].name", DEVICE], True),
    ("duplicate key", {"bad.yaml": 'kind: %s\n' % KIND + yaml_spec()}, ["bad.yaml", "duplicate", DEVICE], True),
    ("no devices", {"bad.yaml": 'cdiVersion: "0.5.0"\nkind: %s\ndevices: []\n' % KIND},
     ["bad.yaml", "devices", DEVICE], True),
    ("empty file", {"bad.yaml": ""}, ["bad.yaml", DEVICE], False),
    ("yaml nested 100000 deep", {"bad.yaml": deep_flow_yaml(100000)}, ["bad.yaml", "nesting", DEVICE], True),
    ("yaml mappings nested 100000 deep", {"bad.yaml": deep_mapping_yaml(100000)},
     ["bad.yaml", "nesting", DEVICE], True),
    ("json nested 100000 deep", {"bad.json": '{"cdiVersion": "0.5.0", "kind": "%s", "devices": %s%s}'
                                 % (KIND, "[" * 100000, "]" * 100000)}, ["bad.json", "nesting", DEVICE], True),
    ("spec file over 16 MiB", {"bad.yaml": big_yaml()}, ["bad.yaml", DEVICE], True),
    ("host device node missing",
     {"bad.yaml": yaml_spec("    deviceNodes: [{path: /dev/x, hostPath: /nonexistent/node}]\n")
      + "- name: b\n  containerEdits:\n    env: [B=1]\n"},
     ["bad.yaml", "devices[0].containerEdits.deviceNodes[0]", '"/nonexistent/node"', DEVICE], False),
    ("host path not a device node",
     {"bad.yaml": yaml_spec("    deviceNodes: [{path: /dev/x, hostPath: /etc/passwd}]\n")},
     ["bad.yaml", "deviceNodes[0]", '"/etc/passwd"', DEVICE], False),
    ("host type mismatch",
     {"bad.yaml": yaml_spec("    deviceNodes: [{path: /dev/x, hostPath: /dev/null, type: b}]\n")},
     ["bad.yaml", "deviceNodes[0]", "mismatch", DEVICE], False),
    ("same-priority conflict", {"a1.yaml": yaml_spec() + "- name: only1\n  containerEdits:\n    env: [O=1]\n",
                                "a2.yaml": yaml_spec("    env: [A=2]\n") + "- name: only2\n  containerEdits:\n"
                                                                            "    env: [O=2]\n"},
     ["a1.yaml", "a2.yaml", "conflict", DEVICE], False),
    ("missing name in the kind", {"other.yaml": yaml_spec(name="b")}, ["other.yaml", '"a"', DEVICE], False),
    ("world-writable spec file", {"bad.yaml": (yaml_spec(), 0o666)}, ["bad.yaml", "writable", DEVICE], False),
]


class BadInputTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.good = h.spec(KIND, {"good": {"env": ["GOOD=1"]}})
        self.bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        self.config_path = os.path.join(self.bundle, "config.json")
        self.inplace_path = h.write_file(self.path("inplace.json"), h.read_bytes(self.config_path))

    def fresh_spec_dir(self, name, files):
        d = h.make_dir(self.path("specs-" + name.replace(" ", "-")))
        self.write_spec("good.yaml", self.good, directory=d)
        for fname, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            self.write_spec(fname, content, directory=d, mode=mode)
        return d

    def check_all_modes(self, spec_dirs, needles, request=DEVICE, label=""):
        """Runs the failing request in state, precreate and in-place mode."""
        extra = {"spec_dirs": spec_dirs}
        # state: config.json kept byte for byte, no temp files
        config = h.oci_config({"cdi.k8s.io/e2e": request})
        h.write_file(self.config_path, json.dumps(config, indent=2))
        before, data = os.stat(self.config_path), h.read_bytes(self.config_path)
        with self.subTest(label, mode="state"):
            self.assertFailure(self.hook(h.oci_state(self.bundle), **extra), *needles)
            self.assertFileUntouched(self.config_path, data, before)
            self.assertOnlyConfig(self.bundle)
        with self.subTest(label, mode="precreate"):
            self.assertFailure(self.hook(config, **extra), *needles)  # stdout empty
        h.write_file(self.inplace_path, data)
        before = os.stat(self.inplace_path)
        with self.subTest(label, mode="in-place"):
            self.assertFailure(self.inject(self.inplace_path, extra=["--in-place"], **extra), *needles)
            self.assertFileUntouched(self.inplace_path, data, before)

    def test_broken_specs(self):
        for name, files, needles, expect_warning in SPEC_CASES:
            d = self.fresh_spec_dir(name, files)
            self.check_all_modes([d], needles, label=name)
            # The good device beside the broken file still works; the broken file is named in the log.
            with self.subTest(name, mode="good beside it"):
                if os.path.exists(self.log_file):
                    os.remove(self.log_file)
                r = self.hook(h.oci_config({"cdi.k8s.io/e2e": GOOD}), spec_dirs=[d])
                self.assertOk(r)
                self.assertIn("GOOD=1", r.json()["process"]["env"])
                if expect_warning:
                    self.assertIn("warning", self.log_text())
                    self.assertIn(list(files)[0], self.log_text())
            shutil.rmtree(d)

    def test_semantic_errors_carry_line_and_column_in_every_front_end(self):
        # Not only validate: the hook (both modes), inject and list locate a spec's semantic errors too.
        d = self.fresh_spec_dir("located", {"bad.yaml": yaml_spec("    env: [OK=1, NOTOK]\n")})
        where = os.path.join(d, "bad.yaml") + ":6:17: devices[0].containerEdits.env[1]: invalid environment variable"
        self.check_all_modes([d], [where, DEVICE], label="located")
        r = h.run(["list", "--spec-dir", d])
        self.assertIn(where, r.stdout.decode() + r.stderr, r)

    def test_conflict_leaves_the_other_devices_usable(self):
        _, files, _, _ = next(c for c in SPEC_CASES if c[0] == "same-priority conflict")
        d = self.fresh_spec_dir("conflict", files)
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": KIND + "=only1," + KIND + "=only2"}), spec_dirs=[d])
        self.assertOk(r)
        self.assertEqual(h.env_map(r.json())["O"], "2")

    def test_missing_kind_names_the_dirs_searched(self):
        d1, d2 = self.fresh_spec_dir("one", {}), self.fresh_spec_dir("two", {})
        self.check_all_modes([d1, d2], ["no spec of kind", '"other.example/kind"', d1, d2],
                             request="other.example/kind=a", label="missing kind")

    def test_every_unresolvable_device_on_one_line(self):
        d = self.fresh_spec_dir("several", {"good.yaml": yaml_spec(name="good")})
        request = ",".join([KIND + "=nope1", KIND + "=good", "other.example/kind=x", KIND + "=nope2"])
        self.check_all_modes([d], ['"%s=nope1"' % KIND, '"other.example/kind=x"', '"%s=nope2"' % KIND,
                                   "no spec of kind", '; '], request=request, label="several")

    def test_world_writable_spec_file_and_dir_are_ignored_unless_allowed(self):
        for what in ("file", "dir"):
            with self.subTest(what):
                d = self.fresh_spec_dir("ww-" + what, {"a.yaml": yaml_spec()})
                target = os.path.join(d, "a.yaml") if what == "file" else d
                os.chmod(target, 0o666 if what == "file" else 0o777)
                config = h.oci_config({"cdi.k8s.io/e2e": DEVICE})
                if os.path.exists(self.log_file):
                    os.remove(self.log_file)
                self.assertFailure(self.hook(config, spec_dirs=[d]), DEVICE)
                log = self.log_text()
                self.assertIn("warning", log)
                self.assertIn(target, log)
                self.assertIn("writable", log)
                r = self.hook(config, spec_dirs=[d], extra=["--allow-insecure-specs"])
                self.assertOk(r)
                self.assertIn("A=1", r.json()["process"]["env"])

    def test_group_writable_by_root_group_is_trusted(self):
        d = self.fresh_spec_dir("gw", {"a.yaml": yaml_spec()})
        os.chown(os.path.join(d, "a.yaml"), 0, 0)
        os.chmod(os.path.join(d, "a.yaml"), 0o664)
        self.assertOk(self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), spec_dirs=[d]))

    def test_spec_dir_that_is_a_file(self):
        d = self.fresh_spec_dir("file-dir", {"a.yaml": yaml_spec()})
        not_a_dir = h.write_file(self.path("not-a-dir"), "x")
        self.check_all_modes([not_a_dir], [DEVICE, not_a_dir], label="only a file")
        # Skipped with a warning naming it; the next dir still serves the device.
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), spec_dirs=[not_a_dir, d])
        self.assertOk(r)
        self.assertIn(not_a_dir, self.log_text())

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv to drop to uid 65534")
    def test_unreadable_spec_dir_for_a_non_root_user(self):
        d = self.fresh_spec_dir("unreadable", {"a.yaml": yaml_spec()})
        readable = self.fresh_spec_dir("readable", {})
        os.chmod(d, 0)
        os.chmod(self.tmp, 0o777)  # the unprivileged run writes its log here
        self.addCleanup(os.chmod, self.tmp, 0o755)
        config = h.oci_config({"cdi.k8s.io/e2e": DEVICE})
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        r = self.hook(config, spec_dirs=[d], cache=False, prefix=prefix)
        self.assertFailure(r, DEVICE, d)
        self.assertIn("Permission denied", self.log_text())
        self.assertIn(d, self.log_text())
        # Skipped, not fatal: the good device in the next dir still resolves.
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": GOOD}), spec_dirs=[d, readable], cache=False, prefix=prefix)
        self.assertOk(r)
        self.assertIn("GOOD=1", r.json()["process"]["env"])

    def test_broken_oci_configs(self):
        good_dev = KIND + "=good"
        d = self.fresh_spec_dir("good-only", {})

        def cfg(**over):
            c = h.oci_config({"cdi.k8s.io/e2e": good_dev})
            for k, v in over.items():
                c[k] = v
            return json.dumps(c)

        deep = '{"a": ' * 300 + "1" + "}" * 300
        cases = [
            ("not an object: array", "[]", ["expected a JSON object"]),
            ("not an object: string", '"config"', ["expected a JSON object"]),
            ("not an object: null", "null", ["expected a JSON object"]),
            ("not an object: number", "42", ["expected a JSON object"]),
            ("truncated", cfg()[:-7], ["invalid JSON"]),
            ("trailing data", cfg() + " {}", ["invalid JSON"]),
            ("duplicate key", cfg()[:-1] + ', "hostname": "again"}', ["duplicate", "hostname"]),
            ("nested too deep", deep, ["nested"]),
            ("annotations an array", cfg(annotations=[good_dev]), ["annotations"]),
            ("annotation value a number", cfg(annotations={"cdi.k8s.io/e2e": 1}), ["annotations.cdi.k8s.io/e2e"]),
            ("annotation with a space", cfg(annotations={"cdi.k8s.io/e2e": good_dev + ", " + good_dev}),
             ["cdi.k8s.io/e2e"]),
            ("annotation empty", cfg(annotations={"cdi.k8s.io/e2e": ""}), ["cdi.k8s.io/e2e"]),
            ("annotation trailing comma", cfg(annotations={"cdi.k8s.io/e2e": good_dev + ","}), ["cdi.k8s.io/e2e"]),
            ("annotation unqualified", cfg(annotations={"cdi.k8s.io/e2e": "good"}), ["cdi.k8s.io/e2e", '"good"']),
            ("annotation invalid vendor", cfg(annotations={"cdi.k8s.io/e2e": "1vendor.example/dev=good"}),
             ["cdi.k8s.io/e2e", "1vendor.example"]),
            ("annotation invalid name", cfg(annotations={"cdi.k8s.io/e2e": KIND + "=a b"}),
             ["cdi.k8s.io/e2e", '"a b"']),
            ("process.env a string", cfg(process={"env": "A=1", "args": ["sh"], "cwd": "/",
                                                  "user": {"uid": 0, "gid": 0}}), ["process.env"]),
            ("process.env holds a number", cfg(process={"env": ["A=1", 5], "args": ["sh"], "cwd": "/",
                                                        "user": {"uid": 0, "gid": 0}}), ["process.env"]),
            ("process a list", cfg(process=[]), ["process"]),
        ]
        for name, text, needles in cases:
            with self.subTest(name, mode="state"):
                h.write_file(self.config_path, text)
                before, data = os.stat(self.config_path), h.read_bytes(self.config_path)
                line = self.assertFailure(self.hook(h.oci_state(self.bundle), spec_dirs=[d]), self.config_path,
                                          *needles)
                self.assertNotIn("good.yaml", line)
                self.assertFileUntouched(self.config_path, data, before)
                self.assertOnlyConfig(self.bundle)
            with self.subTest(name, mode="precreate"):
                line = self.assertFailure(self.hook(text, spec_dirs=[d]), "stdin", *needles)
                self.assertNotIn("good.yaml", line)
            with self.subTest(name, mode="in-place"):
                h.write_file(self.inplace_path, text)
                before = os.stat(self.inplace_path)
                r = self.inject(self.inplace_path, extra=["--in-place"], spec_dirs=[d])
                line = self.assertFailure(r, *needles)
                self.assertNotIn("good.yaml", line)  # the config is at fault, not the spec
                self.assertFileUntouched(self.inplace_path, text.encode(), before)

    def test_bad_stdin(self):
        cases = [
            ("empty stdin", b"", ["stdin", "empty"]),
            ("blank stdin", b" \n\t\n", ["stdin", "empty"]),
            ("truncated state", b'{"ociVersion": "1.0.2", "id": "x", "status": "creat', ["stdin", "invalid JSON"]),
            ("bundle not a string", b'{"ociVersion": "1.0.2", "id": "x", "status": "creating", "bundle": 5}',
             ["bundle"]),
            ("binary garbage", b"\x00\xff\xfe{", ["stdin"]),
        ]
        for name, data, needles in cases:
            with self.subTest(name):
                self.assertFailure(self.hook(data), *needles)
        with self.subTest("inject from empty stdin"):
            self.assertFailure(self.inject("-", stdin=b""), "stdin")

    def test_unreadable_config_file(self):
        missing = self.path("missing.json")
        self.assertFailure(self.inject(missing), missing)
        self.assertFailure(self.inject(self.spec_dir), self.spec_dir)


if __name__ == "__main__":
    unittest.main()

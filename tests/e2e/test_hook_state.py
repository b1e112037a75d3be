"""`cdi-hook hook` in state mode: an OCI state on stdin, <bundle>/config.json rewritten atomically."""

import os
import stat
import unittest

import cdihook as h


class HookStateTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.write_spec("dev.yaml", h.basic_spec(self.tmp))

    def test_config_rewritten_with_node_env_mount_and_cgroup_rule(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=null"}))
        r = self.hook(h.oci_state(bundle))
        self.assertOk(r, stdout_empty=True)
        c = h.load_json(os.path.join(bundle, "config.json"))
        null = os.stat("/dev/null")
        self.assertEqual(h.linux_device(c, "/dev/cdi-null"),
                         {"path": "/dev/cdi-null", "type": "c", "major": os.major(null.st_rdev),
                          "minor": os.minor(null.st_rdev), "fileMode": stat.S_IMODE(null.st_mode)})
        self.assertIn({"allow": True, "type": "c", "major": os.major(null.st_rdev),
                       "minor": os.minor(null.st_rdev), "access": "rwm"}, h.cgroup_rules(c))
        self.assertEqual(h.cgroup_rules(c)[0], {"allow": False, "access": "rwm"})  # the deny-all stays first
        env = h.env_map(c)
        self.assertEqual((env["CDI_SPEC"], env["CDI_DEVICE"], env["TERM"]), ("1", "null", "xterm"))
        self.assertEqual(h.mount_at(c, "/cdi/payload.txt"),
                         {"destination": "/cdi/payload.txt", "source": self.path("payload.txt"),
                          "options": ["ro", "nosuid", "nodev", "bind"]})
        self.assertEqual(c["hostname"], "cdi-e2e")  # the rest passes through
        self.assertOnlyConfig(bundle)

    def test_rewrite_is_atomic_and_keeps_the_mode(self):
        for mode in (0o600, 0o640, 0o444):
            with self.subTest(mode=oct(mode)):
                bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero"}), mode=mode,
                                          name="bundle-%o" % mode)
                path = os.path.join(bundle, "config.json")
                before = os.stat(path)
                self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
                after = os.stat(path)
                self.assertEqual(stat.S_IMODE(after.st_mode), mode)
                self.assertNotEqual(after.st_ino, before.st_ino, "not replaced by rename")
                self.assertEqual(h.env_map(h.load_json(path))["CDI_DEVICE"], "zero")
                self.assertOnlyConfig(bundle)

    def test_no_annotations_leaves_the_file_alone(self):
        for name, annotations in [("none", None), ("other keys", {"org.example/x": "vendor.example/dev=null"}),
                                  ("prefix without slash", {"cdi.k8s.io": "vendor.example/dev=null"})]:
            with self.subTest(name):
                bundle = self.make_bundle(h.oci_config(annotations), name="bundle-" + name.replace(" ", "-"))
                path = os.path.join(bundle, "config.json")
                before, before_bytes = os.stat(path), h.read_bytes(path)
                self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
                self.assertFileUntouched(path, before_bytes, before)
                self.assertOnlyConfig(bundle)

    def test_kata_pod_sandbox_passes_through(self):
        # Even a request that cannot resolve is not looked at for a sandbox.
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=missing",
                                                h.KATA_TYPE: "pod_sandbox"}))
        path = os.path.join(bundle, "config.json")
        before, before_bytes = os.stat(path), h.read_bytes(path)
        self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
        self.assertFileUntouched(path, before_bytes, before)

    def test_kata_pod_container_is_injected(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero",
                                                h.KATA_TYPE: "pod_container"}))
        self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
        self.assertIsNotNone(h.linux_device(h.load_json(os.path.join(bundle, "config.json")), "/dev/cdi-zero"))

    def test_every_state_status_is_a_state(self):
        for status in ("creating", "created", "running", "stopped"):
            with self.subTest(status):
                bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero"}),
                                          name="bundle-" + status)
                state = h.oci_state(bundle, status=status)
                state["pid"] = os.getpid()
                self.assertOk(self.hook(state), stdout_empty=True)
                self.assertIn("CDI_DEVICE=zero", h.load_json(os.path.join(bundle, "config.json"))["process"]["env"])

    def test_relative_bundle_is_refused(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero"}))
        path = os.path.join(bundle, "config.json")
        before, before_bytes = os.stat(path), h.read_bytes(path)
        for rel in ("bundle", "./bundle", ""):
            with self.subTest(bundle=rel):
                r = self.hook(h.oci_state(rel), cwd=self.tmp)
                self.assertFailure(r, "bundle", '"%s"' % rel)
                self.assertFileUntouched(path, before_bytes, before)

    def test_missing_bundle_names_the_config_path(self):
        missing = self.path("no-such-bundle")
        r = self.hook(h.oci_state(missing))
        self.assertFailure(r, os.path.join(missing, "config.json"))
        self.assertFalse(os.path.exists(missing))

    def test_unknown_fields_and_key_order_survive(self):
        config = h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero"})
        config["x-vendor-extension"] = {"keep": [1, 2.5, None, True, "\u00e9"]}
        config["process"]["x-extra"] = "kept"
        bundle = self.make_bundle(config)
        self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
        c = h.load_json(os.path.join(bundle, "config.json"))
        self.assertEqual(c["x-vendor-extension"], {"keep": [1, 2.5, None, True, "\u00e9"]})
        self.assertEqual(c["process"]["x-extra"], "kept")
        self.assertEqual(list(c)[:len(config)], list(config))

    def test_a_second_pass_changes_nothing(self):
        # A hook and a runtime wrapper both configured, or a retried create, inject the same config
        # twice: the second pass must not add the spec's hooks and cgroup rules again.
        spec = h.basic_spec(self.tmp, kind="vendor.example/twice")
        spec["containerEdits"]["hooks"] = [{"hookName": "createContainer", "path": "/usr/bin/true",
                                            "args": ["true", "spec"]}]
        spec["devices"][1]["containerEdits"]["hooks"] = [{"hookName": "poststop", "path": "/usr/bin/true"}]
        self.write_spec("twice.yaml", spec)
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/twice=null,vendor.example/twice=zero"}))
        path = os.path.join(bundle, "config.json")
        self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
        once, once_stat = h.read_bytes(path), os.stat(path)
        c = h.load_json(path)
        self.assertEqual(len(c["hooks"]["createContainer"]), 1)
        self.assertEqual(len(h.cgroup_rules(c)), 3)  # the deny-all and one rule per node
        self.assertOk(self.hook(h.oci_state(bundle)), stdout_empty=True)
        self.assertFileUntouched(path, once, once_stat)  # same bytes, not even rewritten
        self.assertOnlyConfig(bundle)


if __name__ == "__main__":
    unittest.main()

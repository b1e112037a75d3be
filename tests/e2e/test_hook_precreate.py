"""`cdi-hook hook` in precreate mode (podman): an OCI config on stdin, the adjusted config on stdout."""

import json
import unittest

import cdihook as h


class HookPrecreateTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.write_spec("dev.yaml", h.basic_spec(self.tmp))

    def test_adjusted_config_on_stdout_only(self):
        config = h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=null,vendor.example/dev=zero"})
        r = self.hook(config, extra=["--log-level", "debug"])
        self.assertOk(r)
        out = r.json()  # exactly one JSON value: json.loads refuses trailing data
        self.assertEqual(h.env_map(out)["CDI_DEVICE"], "zero")
        self.assertIsNotNone(h.linux_device(out, "/dev/cdi-null"))
        self.assertEqual(h.linux_device(out, "/dev/cdi-zero")["type"], "c")
        self.assertEqual([rule.get("access") for rule in h.cgroup_rules(out)], ["rwm", "rwm", "r"])
        self.assertIsNotNone(h.mount_at(out, "/cdi/payload.txt"))
        # The logs went to the file, not to stdout or stderr.
        log = self.log_text()
        self.assertIn("injected", log)
        self.assertIn("vendor.example/dev=zero", log)

    def test_logs_without_log_file_go_to_stderr_not_stdout(self):
        config = h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero"})
        r = self.hook(config, extra=["--log-level", "debug"], log=False)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("injected", r.stderr)
        self.assertEqual(h.env_map(r.json())["CDI_DEVICE"], "zero")

    def test_passthrough_returns_identical_bytes(self):
        # Odd spacing, key order, escapes and no final newline must survive byte for byte.
        cases = {
            "no annotations": b'{ "ociVersion":"1.0.2" ,"process":{"env":["A=\\u00e9"],"args":["sh"]},\n'
                              b'  "root":{"path":"rootfs"}, "z":1, "a":[1.50, 1e3]}',
            "other annotations": b'{"annotations":{"org.example/x":"vendor.example/dev=null"},'
                                 b'"ociVersion":"1.0.2"}\n\n',
            "kata sandbox": b'{"annotations": {"cdi.k8s.io/e2e": "vendor.example/dev=missing", '
                            b'"io.katacontainers.pkg.oci.container_type": "pod_sandbox"}, "ociVersion": "1.0.2"}',
        }
        for name, data in cases.items():
            with self.subTest(name):
                r = self.hook(data)
                self.assertOk(r)
                self.assertEqual(r.stdout, data)

    def test_podman_environment_empty_env_and_other_cwd(self):
        # podman runs precreate hooks with only the hook's env (none here) and its own cwd.
        config = h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=null"})
        r = self.hook(config, env={}, cwd="/")
        self.assertOk(r)
        self.assertIn("CDI_DEVICE=null", r.json()["process"]["env"])

    def test_unknown_fields_kept(self):
        config = h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=null"})
        config["x-vendor"] = {"nested": [True, None, {"k": "v"}]}
        config["linux"]["x-linux"] = 7
        r = self.hook(config)
        self.assertOk(r)
        out = r.json()
        self.assertEqual(out["x-vendor"], config["x-vendor"])
        self.assertEqual(out["linux"]["x-linux"], 7)
        self.assertEqual(list(out)[:len(config)], list(config))

    def test_duplicate_requests_are_injected_once(self):
        # docs/decisions.md: a device requested twice is injected once.
        config = h.oci_config({"cdi.k8s.io/a": "vendor.example/dev=zero",
                               "cdi.k8s.io/b": "vendor.example/dev=zero,vendor.example/dev=zero"})
        r = self.hook(config)
        self.assertOk(r)
        out = r.json()
        self.assertEqual(len([d for d in out["linux"]["devices"] if d["path"] == "/dev/cdi-zero"]), 1)
        self.assertEqual(len(h.cgroup_rules(out)), 2)

    def test_output_is_compact_single_document(self):
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=zero"}))
        self.assertOk(r)
        decoder = json.JSONDecoder()
        text = r.stdout.decode()
        _, end = decoder.raw_decode(text)
        self.assertEqual(text[end:].strip(), "")


if __name__ == "__main__":
    unittest.main()

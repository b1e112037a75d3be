"""`cdi-hook inject`: --device, annotations, --in-place, stdin."""

import os
import stat
import time
import unittest

import cdihook as h


class InjectTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.write_spec("dev.yaml", h.basic_spec(self.tmp))
        self.write_spec("other.json", h.spec("other.example/thing", {"one": {"env": ["OTHER=1"]}}))
        self.config_path = h.write_file(self.path("config.json"),
                                        h.oci_config({"cdi.k8s.io/e2e": "vendor.example/dev=null"}))

    def test_device_flags_replace_the_annotations(self):
        r = self.inject(self.config_path, devices=["vendor.example/dev=zero", "other.example/thing=one"])
        self.assertOk(r)
        out = r.json()
        env = h.env_map(out)
        self.assertEqual((env["CDI_DEVICE"], env["OTHER"]), ("zero", "1"))
        self.assertIsNone(h.linux_device(out, "/dev/cdi-null"))
        self.assertIsNotNone(h.linux_device(out, "/dev/cdi-zero"))

    def test_annotations_by_default(self):
        r = self.inject(self.config_path)
        self.assertOk(r)
        out = r.json()
        self.assertIsNotNone(h.linux_device(out, "/dev/cdi-null"))
        self.assertEqual(h.env_map(out)["CDI_DEVICE"], "null")

    def test_request_order_decides_env(self):
        for order, last in [(["null", "zero"], "zero"), (["zero", "null"], "null")]:
            with self.subTest(order=order):
                r = self.inject(self.config_path, devices=["vendor.example/dev=" + d for d in order])
                self.assertOk(r)
                env = r.json()["process"]["env"]
                self.assertEqual([e for e in env if e.startswith("CDI_")], ["CDI_SPEC=1", "CDI_DEVICE=" + last])

    def test_nothing_requested_prints_the_config(self):
        path = h.write_file(self.path("plain.json"), h.oci_config())
        r = self.inject(path)
        self.assertOk(r)
        self.assertEqual(r.json(), h.load_json(path))

    def test_in_place_is_atomic_and_keeps_the_mode(self):
        os.chmod(self.config_path, 0o640)
        before = os.stat(self.config_path)
        r = self.inject(self.config_path, extra=["--in-place"])
        self.assertOk(r, stdout_empty=True)
        after = os.stat(self.config_path)
        self.assertNotEqual(after.st_ino, before.st_ino)
        self.assertEqual(stat.S_IMODE(after.st_mode), 0o640)
        self.assertIsNotNone(h.linux_device(h.load_json(self.config_path), "/dev/cdi-null"))
        left = sorted(n for n in os.listdir(self.tmp) if n != "cache")  # the index may or may not be written
        self.assertEqual(left, ["cdi", "config.json", "payload.txt"])

    def test_in_place_with_nothing_to_inject_leaves_the_file(self):
        path = h.write_file(self.path("plain.json"), h.oci_config())
        before, data = os.stat(path), h.read_bytes(path)
        self.assertOk(self.inject(path, extra=["--in-place"]), stdout_empty=True)
        self.assertFileUntouched(path, data, before)

    def test_stdin(self):
        r = self.inject("-", stdin=h.read_bytes(self.config_path), devices=["vendor.example/dev=zero"])
        self.assertOk(r)
        self.assertIsNotNone(h.linux_device(r.json(), "/dev/cdi-zero"))

    def test_stdin_annotations(self):
        r = self.inject("-", stdin=h.read_bytes(self.config_path))
        self.assertOk(r)
        self.assertIsNotNone(h.linux_device(r.json(), "/dev/cdi-null"))

    def test_in_place_refuses_stdin(self):
        self.assertUsage(self.inject("-", stdin=h.read_bytes(self.config_path), extra=["--in-place"]),
                         "--in-place")

    def test_higher_priority_dir_wins(self):
        high = h.make_dir(self.path("high"))
        self.write_spec("dev.yaml", h.spec("vendor.example/dev", {"zero": {"env": ["CDI_DEVICE=high"]}}),
                        directory=high)
        r = self.inject(self.config_path, devices=["vendor.example/dev=zero"], spec_dirs=[self.spec_dir, high])
        self.assertOk(r)
        out = r.json()
        self.assertEqual(h.env_map(out)["CDI_DEVICE"], "high")
        self.assertIsNone(h.linux_device(out, "/dev/cdi-zero"))
        # Reversed priority: the first dir's definition wins.
        r = self.inject(self.config_path, devices=["vendor.example/dev=zero"], spec_dirs=[high, self.spec_dir])
        self.assertOk(r)
        self.assertEqual(h.env_map(r.json())["CDI_DEVICE"], "zero")

    def test_cache_dir_none_and_index_agree(self):
        first = self.inject(self.config_path, cache=False)
        self.assertOk(first)
        # Files changed within the last second are never indexed: age the specs first.
        time.sleep(1.1)
        for attempt in ("cold", "warm"):
            r = self.inject(self.config_path)
            self.assertOk(r)
            self.assertEqual(r.stdout, first.stdout, attempt)
        self.assertTrue(os.listdir(self.cache_dir), "the kind index was written")
        # A spec edited after the index was written is seen.
        self.write_spec("dev.yaml", h.spec("vendor.example/dev", {"null": {"env": ["CDI_DEVICE=edited"]}}))
        r = self.inject(self.config_path)
        self.assertOk(r)
        self.assertEqual(h.env_map(r.json())["CDI_DEVICE"], "edited")


if __name__ == "__main__":
    unittest.main()

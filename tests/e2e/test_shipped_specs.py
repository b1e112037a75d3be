"""The example specs in cdi-specs/ are valid and inject what they promise (fake host nodes stand in
for GPUs and VFIO groups)."""

import json
import os
import stat
import unittest

import cdihook as h
import specgen


class ShippedSpecsTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.nodes = self.path("nodes")
        self.config_path = h.write_file(self.path("config.json"), h.oci_config())

    def install(self, name):
        with open(os.path.join(h.SHIPPED_SPECS, name)) as f:
            text = f.read()
        self.write_spec(name, specgen.localize(text, self.nodes))
        return text

    def inject_ok(self, devices):
        r = self.inject(self.config_path, devices=devices)
        self.assertOk(r)
        return r.json()

    def assertNode(self, config, path):
        d = h.linux_device(config, path)
        self.assertIsNotNone(d, path)
        major, minor = specgen.node_numbers(path)
        self.assertEqual((d["type"], d["major"], d["minor"], d["fileMode"]), ("c", major, minor, 0o660), path)
        self.assertIn({"allow": True, "type": "c", "major": major, "minor": minor, "access": "rwm"},
                      h.cgroup_rules(config))

    def test_every_shipped_spec_is_valid_and_every_device_injects(self):
        names = specgen.shipped_specs()
        self.assertIn("nvidia.com-gpu.yaml", names)
        self.assertIn("intel.com-sriov_vfio.yaml", names)
        for name in names:
            with self.subTest(name):
                mode = stat.S_IMODE(os.stat(os.path.join(h.SHIPPED_SPECS, name)).st_mode)
                self.assertFalse(mode & 0o022, "shipped spec %s is group/world-writable" % name)
                text = self.install(name)
                kind = next(l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("kind:"))
                devices = specgen.shipped_devices(text)
                self.assertTrue(devices, name)
                for d in devices:
                    self.inject_ok([kind + "=" + d])
                self.inject_ok([kind + "=" + d for d in devices])

    def test_nvidia_gpu_spec(self):
        text = self.install("nvidia.com-gpu.yaml")
        devices = specgen.shipped_devices(text)
        self.assertEqual(len(devices), 5)  # 2 GPUs by index and UUID, plus all
        self.assertEqual(devices[0::2][:2], ["0", "1"])
        self.assertTrue(all(d.startswith("GPU-") for d in devices[1:4:2]), devices)
        self.assertEqual(devices[-1], "all")
        top = ["/dev/nvidia-modeset", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidiactl"]

        for index, uuid in ((0, devices[1]), (1, devices[3])):
            by_index = self.inject_ok(["nvidia.com/gpu=%d" % index])
            by_uuid = self.inject_ok(["nvidia.com/gpu=" + uuid])
            self.assertEqual(by_index, by_uuid)
            for p in top + ["/dev/nvidia%d" % index, "/dev/dri/card%d" % (index + 1),
                            "/dev/dri/renderD%d" % (128 + index)]:
                self.assertNode(by_index, p)
            self.assertIsNone(h.linux_device(by_index, "/dev/nvidia%d" % (1 - index)))
            self.assertEqual(h.env_map(by_index)["NVIDIA_VISIBLE_DEVICES"], "void")
            hooks = by_index["hooks"]["createContainer"]
            self.assertEqual(len(hooks), 5)  # 4 spec-level + the GPU's create-symlinks
            self.assertTrue(all(x["path"] == "/usr/bin/nvidia-cdi-hook" for x in hooks))
            self.assertIn("NVIDIA_CTK_DEBUG=false", hooks[0]["env"])
            self.assertEqual(len(by_index["mounts"]), 2 + 20)  # /proc, /dev + the spec's mounts
            self.assertEqual(h.mount_at(by_index, "/run/nvidia-persistenced/socket")["options"][-1], "noexec")

        everything = self.inject_ok(["nvidia.com/gpu=all"])
        for p in top + ["/dev/nvidia0", "/dev/nvidia1", "/dev/dri/card1", "/dev/dri/card2",
                        "/dev/dri/renderD128", "/dev/dri/renderD129"]:
            self.assertNode(everything, p)
        self.assertEqual(len(everything["linux"]["devices"]), 10)
        self.assertEqual(len(everything["hooks"]["createContainer"]), 6)

    def test_nvidia_gpu_spec_fails_cleanly_without_the_hardware(self):
        # Installed as shipped (no fake nodes) on a host without NVIDIA nodes: one clear error.
        if os.path.exists("/dev/nvidia-modeset"):
            self.skipTest("this host has NVIDIA device nodes")
        h.write_file(os.path.join(self.spec_dir, "nvidia.com-gpu.yaml"),
                     h.read_bytes(os.path.join(h.SHIPPED_SPECS, "nvidia.com-gpu.yaml")))
        r = self.inject(self.config_path, devices=["nvidia.com/gpu=0"])
        self.assertFailure(r, "nvidia.com-gpu.yaml", "containerEdits.deviceNodes[0]", '"/dev/nvidia-modeset"')

    def test_vfio_spec(self):
        text = self.install("intel.com-sriov_vfio.yaml")
        devices = specgen.shipped_devices(text)
        self.assertEqual(devices, ["0000:3b:02.0", "0000:3b:02.1"])
        for name, group in zip(devices, (87, 88)):
            out = self.inject_ok(["intel.com/sriov_vfio=" + name])
            self.assertNode(out, "/dev/vfio/vfio")
            self.assertNode(out, "/dev/vfio/%d" % group)
            env = h.env_map(out)
            self.assertEqual(env["PCIDEVICE_INTEL_COM_SRIOV_VFIO"], name)
            info = json.loads(env["PCIDEVICE_INTEL_COM_SRIOV_VFIO_INFO"])
            self.assertEqual(info[name]["vfio"], {"dev-mount": "/dev/vfio/%d" % group, "mount": "/dev/vfio/vfio"})
        both = self.inject_ok(["intel.com/sriov_vfio=" + d for d in devices])
        self.assertEqual(len(both["linux"]["devices"]), 3)  # vfio once, two groups
        self.assertEqual(h.env_map(both)["PCIDEVICE_INTEL_COM_SRIOV_VFIO"], devices[-1])

    def test_example_char_spec_as_shipped(self):
        # The demo spec uses host nodes every Linux box has: it works without fake nodes.
        h.write_file(os.path.join(self.spec_dir, "example.com-char.yaml"),
                     h.read_bytes(os.path.join(h.SHIPPED_SPECS, "example.com-char.yaml")))
        out = self.inject_ok(["example.com/char=null", "example.com/char=zero"])
        self.assertEqual(h.linux_device(out, "/dev/cdi-zero")["minor"], os.minor(os.stat("/dev/zero").st_rdev))
        self.assertIsNotNone(h.mount_at(out, "/etc/cdi-example/os-release"))

    def test_generated_nvidia_like_spec(self):
        self.write_spec("nvidia.yaml", specgen.nvidia_like(self.path("gen-nodes"), gpus=8, libs=40))
        out = self.inject_ok(["nvidia.com/gpu=all"] + ["nvidia.com/gpu=%d" % i for i in range(8)])
        self.assertEqual(len(out["linux"]["devices"]), 4 + 8 * 3)  # duplicates requested: injected once
        self.assertEqual(len(out["mounts"]), 2 + 1 + 3 + 40 + 1)


if __name__ == "__main__":
    unittest.main()

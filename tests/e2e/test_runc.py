"""A real container: cdi-hook (state mode) injects into a busybox bundle, then `runc run` starts it
and the container sees the device node, env entry and bind mount, and may open the device.

runc has parsed config.json before any of its own hooks run, so the hook is run here the way a
pre-create actor would run it: on the bundle, before `runc run`. Fails (does not skip) when runc or
busybox is missing.
"""

import json
import os
import subprocess
import unittest

import cdihook as h

KIND = "runc.e2e.example/dev"  # '.' in the vendor only: cdiVersion 0.5.0 is enough


def host_device_numbers():
    """(major, minor) for the fake node: /dev/fuse's when the host has one (runc does not allow it
    by default, so opening it proves the CDI cgroup rule works), else /dev/null's."""
    for path in ("/dev/fuse", "/dev/null"):
        try:
            st = os.stat(path)
        except OSError:
            continue
        return path, os.major(st.st_rdev), os.minor(st.st_rdev)
    raise RuntimeError("no /dev/fuse or /dev/null on this host")


class RuncTest(h.RuncTestCase):
    id_prefix = "cdi-e2e-"

    def make_busybox_bundle(self, annotations):
        bundle = h.make_dir(self.path("bundle"))
        if h.busybox_rootfs(os.path.join(bundle, "rootfs")) is None:
            self.fail("busybox is not installed (scripts/install-deps.sh installs busybox-static)")
        subprocess.run([self.runc, "spec", "--bundle", bundle], check=True, capture_output=True, timeout=30)
        path = os.path.join(bundle, "config.json")
        config = h.load_json(path)
        config["process"]["terminal"] = False
        config["process"]["args"] = ["sh", "-c", self.script()]
        config["annotations"] = annotations
        config["hostname"] = self.id[:20]
        # A node the container may not open: no cgroup rule allows it (control for the CDI rule).
        config["linux"].setdefault("devices", []).append(
            {"path": "/dev/cdi-denied", "type": "c", "major": 240, "minor": 77, "fileMode": 0o666})
        h.write_file(path, json.dumps(config, indent=2), 0o644)
        return bundle

    @staticmethod
    def script():
        return "; ".join([
            "stat -c 'NODE %F %t:%T' /dev/cdi-e2e",
            "echo \"ENV CDI_E2E=$CDI_E2E\"",
            "echo \"PAYLOAD $(cat /cdi/payload.txt)\"",
            "if (exec 3<>/dev/cdi-e2e) 2>/dev/null; then echo OPEN ok; else echo OPEN failed; fi",
            "echo \"DENIED $( (exec 3<>/dev/cdi-denied && echo opened) 2>&1)\"",
        ])

    def test_runc_run_sees_the_injected_device_env_and_mount(self):
        host_path, major, minor = host_device_numbers()
        fake = h.mknod_char(self.path("nodes", "e2e"), major, minor, 0o666)
        payload = h.write_file(self.path("payload.txt"), "from the host %s\n" % self.id)
        self.write_spec("runc.yaml", h.spec(KIND, {"dev": {
            "deviceNodes": [{"path": "/dev/cdi-e2e", "hostPath": fake}],
            "env": ["CDI_E2E=runc-" + self.id],
            "mounts": [{"hostPath": payload, "containerPath": "/cdi/payload.txt",
                        "options": ["ro", "nosuid", "nodev", "bind"]}],
        }}))
        bundle = self.make_busybox_bundle({"cdi.k8s.io/e2e": KIND + "=dev"})

        r = self.hook({"ociVersion": "1.0.2", "id": self.id, "status": "creating", "bundle": bundle})
        self.assertOk(r, stdout_empty=True)
        config = h.load_json(os.path.join(bundle, "config.json"))
        self.assertIn({"allow": True, "type": "c", "major": major, "minor": minor, "access": "rwm"},
                      h.cgroup_rules(config))

        p = subprocess.run([self.runc, "--root", self.root, "run", "--bundle", bundle, self.id],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, "runc run failed: %s%s" % (p.stdout, p.stderr))
        lines = p.stdout.splitlines()
        self.assertIn("NODE character special file %x:%x" % (major, minor), lines, p.stdout)
        self.assertIn("ENV CDI_E2E=runc-" + self.id, lines, p.stdout)
        self.assertIn("PAYLOAD from the host " + self.id, lines, p.stdout)
        self.assertIn("OPEN ok", lines, "%s (host node %s)" % (p.stdout, host_path))
        denied = [l for l in lines if l.startswith("DENIED")]
        self.assertEqual(len(denied), 1, p.stdout)
        self.assertIn("Operation not permitted", denied[0], "the device cgroup is not enforced: " + p.stdout)


if __name__ == "__main__":
    unittest.main()

"""A real container with guest translation: the spec's device /dev/fake0 has the host numbers of one node;
the guest map maps it to a guest node with other numbers. After `cdi-hook hook --guest-map` (state mode,
run on the bundle before `runc run`, as test_runc.py explains), the container sees /dev/fake0 with the
guest numbers, may open it through the translated cgroup rule, and may no longer open the host numbers.
Fails (does not skip) when runc or busybox is missing.
"""

import json
import os
import subprocess
import unittest

import cdihook as h

KIND = "guest-runc.e2e.example/dev"
HOST_NUMBERS = (240, 78)  # the "host" node: numbers no runc default rule allows


def guest_device():
    """A real char device runc does not allow by default, so that opening it proves the translated rule."""
    for path in ("/dev/fuse", "/dev/loop-control", "/dev/net/tun"):
        try:
            st = os.stat(path)
        except OSError:
            continue
        if os.major(st.st_rdev) or os.minor(st.st_rdev):
            return path, os.major(st.st_rdev), os.minor(st.st_rdev)
    raise RuntimeError("none of /dev/fuse, /dev/loop-control, /dev/net/tun exists on this host")


class GuestRuncTest(h.RuncTestCase):
    id_prefix = "cdi-guest-"

    def make_busybox_bundle(self):
        bundle = h.make_dir(self.path("bundle"))
        if h.busybox_rootfs(os.path.join(bundle, "rootfs")) is None:
            self.fail("busybox is not installed (scripts/install-deps.sh installs busybox-static)")
        subprocess.run([self.runc, "spec", "--bundle", bundle], check=True, capture_output=True, timeout=30)
        path = os.path.join(bundle, "config.json")
        config = h.load_json(path)
        config["process"]["terminal"] = False
        config["process"]["args"] = ["sh", "-c", "; ".join([
            "stat -c 'NODE %F %t:%T' /dev/fake0",
            "if (exec 3<>/dev/fake0) 2>/dev/null; then echo OPEN ok; else echo OPEN failed; fi",
            "echo \"HOST $( (exec 3<>/dev/host-numbers && echo opened) 2>&1)\"",
        ])]
        config["annotations"] = {"cdi.k8s.io/e2e": KIND + "=fake"}
        config["hostname"] = self.id[:20]
        # The host numbers under another name, outside CDI: after translation no rule allows them.
        config["linux"].setdefault("devices", []).append(
            {"path": "/dev/host-numbers", "type": "c", "major": HOST_NUMBERS[0], "minor": HOST_NUMBERS[1],
             "fileMode": 0o666})
        h.write_file(path, json.dumps(config, indent=2), 0o644)
        return bundle

    def test_runc_run_sees_the_guest_numbers_and_may_open_the_node(self):
        guest_path, g_major, g_minor = guest_device()
        host_node = h.mknod_char(self.path("host", "fake0"), *HOST_NUMBERS)
        guest_node = h.mknod_char(self.path("guest", "fake0"), g_major, g_minor)
        self.write_spec("fake.yaml", h.spec(KIND, {"fake": {
            "deviceNodes": [{"path": "/dev/fake0", "hostPath": host_node}]}}))
        guest_map = h.write_file(self.path("guest-map.json"),
                                 {"devices": [{"containerPath": "/dev/fake0", "guestPath": guest_node}]})
        bundle = self.make_busybox_bundle()

        r = self.hook({"ociVersion": "1.0.2", "id": self.id, "status": "creating", "bundle": bundle},
                      extra=["--guest-map", guest_map])
        self.assertOk(r, stdout_empty=True)
        config = h.load_json(os.path.join(bundle, "config.json"))
        dev = h.linux_device(config, "/dev/fake0")
        self.assertEqual((dev["type"], dev["major"], dev["minor"]), ("c", g_major, g_minor))
        rules = h.cgroup_rules(config)
        self.assertIn({"allow": True, "type": "c", "major": g_major, "minor": g_minor, "access": "rwm"}, rules)
        self.assertFalse([x for x in rules if (x.get("major"), x.get("minor")) == HOST_NUMBERS], rules)

        p = subprocess.run([self.runc, "--root", self.root, "run", "--bundle", bundle, self.id],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, "runc run failed: %s%s" % (p.stdout, p.stderr))
        lines = p.stdout.splitlines()
        self.assertIn("NODE character special file %x:%x" % (g_major, g_minor), lines, p.stdout)
        self.assertIn("OPEN ok", lines, "%s (guest numbers of %s)" % (p.stdout, guest_path))
        host = [l for l in lines if l.startswith("HOST")]
        self.assertEqual(len(host), 1, p.stdout)
        self.assertIn("Operation not permitted", host[0], "the host numbers are still allowed: " + p.stdout)


if __name__ == "__main__":
    unittest.main()

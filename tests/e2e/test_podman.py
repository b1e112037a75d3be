"""A real engine: podman runs cdi-hook as a precreate hook (hooks/cdi-hook-precreate.json, pointed
at the built binary) and the container sees the injected env, device node and mount.

podman runs on private storage (--root/--runroot/--tmpdir in a temp dir, vfs driver), so the test
touches neither the host's images nor other tests. Fails (does not skip) when podman or busybox is
missing.
"""

import json
import os
import re
import shutil
import subprocess
import tarfile
import unittest
import uuid

import cdihook as h

KIND = "podman.e2e.example/dev"
SHIPPED_HOOK = os.path.join(h.HOOKS_DIR, "cdi-hook-precreate.json")


def fake_device_numbers():
    for path in ("/dev/fuse", "/dev/null"):  # /dev/fuse is not in podman's default device allowlist
        try:
            st = os.stat(path)
        except OSError:
            continue
        return os.major(st.st_rdev), os.minor(st.st_rdev)
    raise RuntimeError("no /dev/fuse or /dev/null on this host")


class PodmanTest(h.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.podman = shutil.which("podman")

    def setUp(self):
        super().setUp()
        if self.podman is None:
            self.fail("podman is not installed (scripts/install-deps.sh installs it)")
        self.id = uuid.uuid4().hex[:12]
        store = h.make_dir(self.path("podman"), 0o700)
        self.global_flags = [
            "--root", os.path.join(store, "root"), "--runroot", os.path.join(store, "runroot"),
            "--tmpdir", os.path.join(store, "tmp"), "--storage-driver", "vfs", "--events-backend", "none",
        ]
        self.image = "localhost/cdi-hook-e2e:" + self.id
        self.import_busybox()
        self.addCleanup(self.podman_cmd, "rmi", "--force", self.image)
        self.hooks_dir = self.install_hook()

    def podman_cmd(self, *args, check=False, timeout=120):
        p = subprocess.run([self.podman] + self.global_flags + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            self.fail("podman %s failed (%d): %s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def import_busybox(self):
        rootfs = self.path("rootfs")
        if h.busybox_rootfs(rootfs) is None:
            self.fail("busybox is not installed (scripts/install-deps.sh installs busybox-static)")
        tar = self.path("rootfs.tar")
        with tarfile.open(tar, "w") as t:
            for name in sorted(os.listdir(rootfs)):
                t.add(os.path.join(rootfs, name), arcname=name)
        self.podman_cmd("import", tar, self.image, check=True)

    def install_hook(self):
        """A private hooks dir holding the shipped precreate hook, aimed at the built binary and the test's
        spec dir, cache dir and log file."""
        hook = h.load_json(SHIPPED_HOOK)
        self.assertEqual(hook["hook"]["path"], "/usr/local/bin/cdi-hook")
        hook["hook"]["path"] = h.binary()
        args = hook["hook"]["args"]
        args[args.index("--log-file") + 1] = self.log_file
        args[args.index("--wait") + 1] = "2"
        args += ["--spec-dir", self.spec_dir, "--cache-dir", self.cache_dir]
        hooks_dir = h.make_dir(self.path("hooks.d"))
        h.write_file(os.path.join(hooks_dir, "cdi-hook-precreate.json"), json.dumps(hook, indent=2))
        return hooks_dir

    def podman_run(self, annotations, script):
        args = ["--hooks-dir", self.hooks_dir, "run", "--rm", "--runtime", "runc", "--cgroup-manager", "cgroupfs",
                "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        for k, v in annotations.items():
            args += ["--annotation", "%s=%s" % (k, v)]
        return self.podman_cmd(*(args + [self.image, "sh", "-c", script]))

    def write_device_spec(self):
        major, minor = fake_device_numbers()
        fake = h.mknod_char(self.path("nodes", "e2e"), major, minor, 0o666)
        payload = h.write_file(self.path("payload.txt"), "podman payload %s\n" % self.id)
        self.write_spec("podman.yaml", h.spec(KIND, {"dev": {
            "deviceNodes": [{"path": "/dev/cdi-e2e", "hostPath": fake}],
            "env": ["CDI_E2E=podman-" + self.id],
            "mounts": [{"hostPath": payload, "containerPath": "/cdi/payload.txt",
                        "options": ["ro", "nosuid", "nodev", "bind"]}],
        }}))
        return major, minor

    SCRIPT = "; ".join([
        "stat -c 'NODE %F %t:%T' /dev/cdi-e2e 2>&1",
        "echo \"ENV CDI_E2E=$CDI_E2E\"",
        "echo \"PAYLOAD $(cat /cdi/payload.txt 2>&1)\"",
        "if (exec 3<>/dev/cdi-e2e) 2>/dev/null; then echo OPEN ok; else echo OPEN failed; fi",
    ])

    def test_precreate_hook_injects_env_node_and_mount(self):
        major, minor = self.write_device_spec()
        p = self.podman_run({"cdi.k8s.io/test": KIND + "=dev"}, self.SCRIPT)
        self.assertEqual(p.returncode, 0, "podman run failed: %s%s\nhook log:\n%s" % (p.stdout, p.stderr,
                                                                                      self.log_text()))
        lines = p.stdout.splitlines()
        self.assertIn("NODE character special file %x:%x" % (major, minor), lines, p.stdout)
        self.assertIn("ENV CDI_E2E=podman-" + self.id, lines, p.stdout)
        self.assertIn("PAYLOAD podman payload " + self.id, lines, p.stdout)
        self.assertIn("OPEN ok", lines, p.stdout)

    def test_no_cdi_annotation_no_hook(self):
        self.write_device_spec()
        p = self.podman_run({"org.example/other": KIND + "=dev"}, self.SCRIPT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ENV CDI_E2E=", p.stdout.splitlines(), p.stdout)
        self.assertNotIn("NODE character", p.stdout)

    def test_unresolvable_device_stops_the_container(self):
        self.write_device_spec()
        p = self.podman_run({"cdi.k8s.io/test": KIND + "=missing"}, "echo STARTED")
        self.assertEqual(p.returncode, 126, p.stdout + p.stderr)  # podman: the OCI hooks failed
        self.assertNotIn("STARTED", p.stdout)
        self.assertIn("precreate hook", p.stderr)
        self.assertIn("exit status 1", p.stderr)


class ShippedHookFileTest(unittest.TestCase):
    """hooks/*.json are what the README says: valid hooks.d 1.0.0 and a config.json hooks stanza."""

    def test_precreate_hook_file(self):
        hook = h.load_json(SHIPPED_HOOK)
        self.assertEqual(hook["version"], "1.0.0")
        self.assertEqual(hook["stages"], ["precreate"])
        self.assertEqual(hook["hook"]["path"], "/usr/local/bin/cdi-hook")
        self.assertEqual(hook["hook"]["args"][:2], ["cdi-hook", "hook"])
        self.assertTrue(any(e.startswith("PATH=/") for e in hook["hook"]["env"]))
        wait = float(hook["hook"]["args"][hook["hook"]["args"].index("--wait") + 1])
        self.assertGreater(hook["hook"]["timeout"], wait)  # the hook gives up before podman kills it
        self.assertEqual(list(hook["when"]), ["annotations"])
        (key, value), = hook["when"]["annotations"].items()
        self.assertTrue(re.search(key, "cdi.k8s.io/gpu"))
        self.assertFalse(re.search(key, "cdixk8sxio/gpu"))
        self.assertFalse(re.search(key, "example.com/cdi.k8s.io/gpu"))
        self.assertTrue(re.search(value, "nvidia.com/gpu=0"))

    def test_create_runtime_stanza(self):
        stanza = h.load_json(os.path.join(h.HOOKS_DIR, "oci-config-createRuntime.json"))
        (entry,) = stanza["hooks"]["createRuntime"]
        self.assertEqual(entry["path"], "/usr/local/bin/cdi-hook")
        self.assertEqual(entry["args"][:2], ["cdi-hook", "hook"])
        self.assertGreater(entry["timeout"], 0)
        self.assertTrue(any(e.startswith("PATH=/") for e in entry["env"]))


if __name__ == "__main__":
    unittest.main()

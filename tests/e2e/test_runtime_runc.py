"""The OCI runtime wrapper with Debian's runc: `cdi-hook runtime --runtime runc -- run --bundle B ID`
and the `cdi-hook-runtime` name that engines call with runc's arguments unchanged."""

import json
import os
import shutil
import subprocess
import uuid

import cdihook as h

SCRIPT = ("ls -l /dev/cdi-null; echo \"env=$CDI_DEVICE\"; cat /cdi/payload.txt; "
          "echo probe > /dev/cdi-null && echo opened")


class RuntimeWrapper(h.TestCase):
    def setUp(self):
        super().setUp()
        self.runc = shutil.which("runc")
        self.assertIsNotNone(self.runc, "runc is not installed: scripts/install-deps.sh installs it")
        self.write_spec("s.yaml", h.basic_spec(self.tmp))
        config = h.oci_config(annotations={"cdi.k8s.io/test": "vendor.example/dev=null"}, args=("sh", "-c", SCRIPT))
        self.bundle = self.make_bundle(config)
        self.assertIsNotNone(h.busybox_rootfs(os.path.join(self.bundle, "rootfs")), "busybox-static is missing")
        self.root = h.make_dir(self.path("runc-root"), 0o700)
        self.ids = []
        self.addCleanup(self._delete_containers)

    def _delete_containers(self):
        for cid in self.ids:
            subprocess.run([self.runc, "--root", self.root, "delete", "--force", cid], capture_output=True)

    def new_id(self):
        cid = "cdi-rt-" + uuid.uuid4().hex[:8]
        self.ids.append(cid)
        return cid

    def wrapper_args(self):
        return ["runtime", "--runtime", self.runc, "--spec-dir", self.spec_dir, "--cache-dir", "none",
                "--log-file", self.log_file, "--wait", "0", "--"]

    def assertInside(self, r):
        self.assertEqual(r.rc, 0, r)
        out = r.stdout.decode()
        self.assertRegex(out, r"c[rw-]+\s+1 0\s+0\s+1,\s+3 .*/dev/cdi-null")
        self.assertIn("env=null", out)
        self.assertIn("payload", out)
        self.assertIn("opened", out)

    def test_run_through_the_subcommand(self):
        cid = self.new_id()
        r = h.run(self.wrapper_args() + ["--root", self.root, "run", "--bundle", self.bundle, cid], timeout=60)
        self.assertInside(r)
        config = h.load_json(os.path.join(self.bundle, "config.json"))
        self.assertIsNotNone(h.linux_device(config, "/dev/cdi-null"))

    def test_run_through_the_cdi_hook_runtime_name_with_env_options(self):
        link = os.path.join(self.tmp, "bin", "cdi-hook-runtime")
        h.make_dir(os.path.dirname(link))
        os.symlink(h.binary(), link)
        env = dict(os.environ, CDI_HOOK_RUNTIME=self.runc, CDI_HOOK_SPEC_DIRS=self.spec_dir, CDI_HOOK_WAIT="0",
                   CDI_HOOK_CACHE_DIR="none", CDI_HOOK_RUNTIME_CONFIG="none")
        cid = self.new_id()
        p = subprocess.run([link, "--root", self.root, "--log", self.path("runc.log"), "--log-format", "json",
                            "run", "-b", self.bundle, cid], capture_output=True, env=env, timeout=60)
        self.assertInside(h.Run([link], p.returncode, p.stdout, p.stderr.decode(), 0, 0))

    def test_config_file_options(self):
        link = os.path.join(self.tmp, "cdi-hook-runtime")
        os.symlink(h.binary(), link)
        conf = h.write_file(self.path("runtime.conf"), "# test\nruntime = %s\nspec-dir = %s\nwait = 0\n"
                            "cache-dir = none\n" % (self.runc, self.spec_dir))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CDI_HOOK_RUNTIME_CONFIG": conf}
        cid = self.new_id()
        p = subprocess.run([link, "--root", self.root, "run", "--bundle=" + self.bundle, cid], capture_output=True,
                           env=env, timeout=60)
        self.assertInside(h.Run([link], p.returncode, p.stdout, p.stderr.decode(), 0, 0))
        h.write_file(conf, "runtime = %s\nspec-dirs = x\n" % self.runc)
        p = subprocess.run([link, "--root", self.root, "run", "-b", self.bundle, self.new_id()], capture_output=True,
                           env=env, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn(conf + ':2: unknown key "spec-dirs" (did you mean "spec-dir"?)', p.stderr.decode())

    def test_other_commands_go_straight_through(self):
        # `state` of an unknown container: runc's own error and exit status, the bundle untouched.
        before = h.read_bytes(os.path.join(self.bundle, "config.json"))
        r = h.run(self.wrapper_args() + ["--root", self.root, "state", "no-such-container"])
        direct = subprocess.run([self.runc, "--root", self.root, "state", "no-such-container"], capture_output=True)
        self.assertEqual(r.rc, direct.returncode)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("container does not exist", r.stderr)
        self.assertIn("container does not exist", direct.stderr.decode())
        self.assertEqual(h.read_bytes(os.path.join(self.bundle, "config.json")), before)
        r = h.run(self.wrapper_args() + ["--version"])
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"runc version", r.stdout)

    def test_failure_leaves_the_bundle_and_starts_nothing(self):
        config_path = os.path.join(self.bundle, "config.json")
        c = h.load_json(config_path)
        c["annotations"]["cdi.k8s.io/test"] = "vendor.example/dev=missing"
        h.write_file(config_path, json.dumps(c, indent=2), 0o640)
        before, st = h.read_bytes(config_path), os.stat(config_path)
        cid = self.new_id()
        log = self.path("runc-log.json")
        r = h.run(self.wrapper_args() + ["--root", self.root, "--log", log, "--log-format", "json", "create",
                                         "--bundle", self.bundle, cid])
        self.assertFailure(r, "vendor.example/dev=missing", "no device \"missing\"")
        self.assertFileUntouched(config_path, before, st)
        self.assertOnlyConfig(self.bundle)
        state = subprocess.run([self.runc, "--root", self.root, "state", cid], capture_output=True)
        self.assertNotEqual(state.returncode, 0, "the container must not exist")
        with open(log) as f:
            entry = json.loads(f.readline())
        self.assertEqual(entry["level"], "error")
        self.assertIn("vendor.example/dev=missing", entry["msg"])

    def test_the_wrapper_refuses_to_exec_itself(self):
        link = os.path.join(self.tmp, "cdi-hook-runtime")
        os.symlink(h.binary(), link)
        env = dict(os.environ, CDI_HOOK_RUNTIME=link, CDI_HOOK_RUNTIME_CONFIG="none")
        p = subprocess.run([link, "state", "x"], capture_output=True, env=env, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is cdi-hook itself", p.stderr.decode())


if __name__ == "__main__":
    import unittest
    unittest.main()

"""The bundle a state-mode hook rewrites: only a regular config.json, replaced atomically through an
unnamed temporary file; a symbolic link or anything else is refused with the bundle untouched."""

import os
import stat
import threading

import cdihook as h

DEVICE = "vendor.example/dev=null"


class BundleTrustTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.write_spec("dev.yaml", h.basic_spec(self.tmp))

    def test_symlinked_config_is_refused_and_nothing_changes(self):
        # The link points at a file with another owner and mode: following it would rewrite that file
        # (and give the result its owner and mode).
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        config = os.path.join(bundle, "config.json")
        target = self.path("elsewhere.json")
        os.rename(config, target)
        os.chmod(target, 0o600)
        os.chown(target, 65534, 65534)
        os.symlink(target, config)
        before = h.read_bytes(target)
        target_stat = os.stat(target)
        r = self.hook(h.oci_state(bundle))
        self.assertFailure(r, config, "is a symbolic link")
        self.assertTrue(os.path.islink(config))
        self.assertEqual(os.readlink(config), target)
        self.assertFileUntouched(target, before, target_stat)
        self.assertEqual((os.stat(target).st_uid, os.stat(target).st_gid), (65534, 65534))
        self.assertEqual(sorted(os.listdir(bundle)), ["config.json", "rootfs"])

    def test_fifo_config_is_refused_without_blocking(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        config = os.path.join(bundle, "config.json")
        os.remove(config)
        os.mkfifo(config, 0o644)
        r = self.hook(h.oci_state(bundle), timeout=10)
        self.assertFailure(r, config, "not a regular file")
        self.assertTrue(stat.S_ISFIFO(os.lstat(config).st_mode))

    def test_rewrite_keeps_mode_and_owner_and_leaves_no_temp_file(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), mode=0o640)
        config = os.path.join(bundle, "config.json")
        os.chown(config, 1234, 5678)
        r = self.hook(h.oci_state(bundle))
        self.assertOk(r, stdout_empty=True)
        st = os.stat(config)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o640, 1234, 5678))
        self.assertIsNotNone(h.linux_device(h.load_json(config), "/dev/cdi-null"))
        self.assertOnlyConfig(bundle)

    def test_dead_writers_leftover_is_removed(self):
        # A writer killed between linking its file and the rename leaves a named temp file: the next write
        # removes it (its pid is gone), and leaves a live writer's alone.
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        dead = h.write_file(os.path.join(bundle, ".config.json.cdi-hook-%d-1" % pid), "{}")
        live = h.write_file(os.path.join(bundle, ".config.json.cdi-hook-%d-2" % os.getpid()), "{}")
        r = self.hook(h.oci_state(bundle))
        self.assertOk(r, stdout_empty=True)
        self.assertFalse(os.path.exists(dead))
        self.assertTrue(os.path.exists(live))

"""`cdi-hook try` with Debian's runc: a real container per test, what it saw, and nothing left behind.

Each test gives try a private TMPDIR, so "no temp dir left" is checked exactly, and a unique command line,
so "no container left" is checked on the process table. Fails (does not skip) without root, runc or
busybox-static.
"""

import glob
import os
import signal
import subprocess
import time
import uuid

import cdihook as h

KIND = "try.e2e.example/dev"


def fuse_or_null():
    """(path, major, minor) of /dev/fuse when the host has it (runc's own rules do not allow it, so a refused
    write proves the spec's rule), else /dev/null."""
    for path in ("/dev/fuse", "/dev/null"):
        try:
            st = os.stat(path)
        except OSError:
            continue
        return path, os.major(st.st_rdev), os.minor(st.st_rdev)
    raise RuntimeError("no /dev/fuse or /dev/null on this host")


def processes_with(needle, prefix=b""):
    """Pids whose command line holds `needle` (and starts with `prefix`)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle.encode() in cmdline and cmdline.startswith(prefix):
            out.append(int(pid))
    return out


class TryTest(h.TestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail("try needs root: run the e2e tests as root")
        if not os.path.exists("/usr/sbin/runc") and not h.shutil.which("runc"):
            self.fail("runc is not installed (scripts/install-deps.sh installs it)")
        self.tmpdir = h.make_dir(self.path("try-tmp"))
        self.env = dict(os.environ, TMPDIR=self.tmpdir)
        self.marker = uuid.uuid4().hex[:12]
        self.addCleanup(self.assertNothingLeft)

    def assertNothingLeft(self):
        left = processes_with(self.marker)
        for pid in left:  # after a failure, do not leave the container running
            os.kill(pid, signal.SIGKILL)
        self.assertEqual(left, [], "a process of the container is still running")
        self.assertEqual(os.listdir(self.tmpdir), [], "try left files in its TMPDIR")

    def try_(self, devices, command=(), extra=(), timeout=90):
        args = ["try"] + self.common_args() + list(extra) + list(devices)
        if command:
            args += ["--"] + list(command)
        return h.run(args, env=self.env, timeout=timeout)

    def try_json(self, devices, command=(), extra=()):
        r = self.try_(devices, command, list(extra) + ["--output", "json"])
        self.assertIn(r.rc, (0, 1), r)
        return r, r.json()

    @staticmethod
    def checks(report, result=None):
        return [(c["check"], c["subject"], c["message"]) for c in report["checks"]
                if result is None or c["result"] == result]

    def test_a_working_spec_passes_every_check(self):
        host, major, minor = fuse_or_null()
        node = h.mknod_char(self.path("nodes", "dev"), major, minor, 0o640)
        payload = h.write_file(self.path("payload.txt"), "payload %s\n" % self.marker)
        self.write_spec("try.yaml", h.spec(KIND, {"ok": {
            "deviceNodes": [{"path": "/dev/cdi-try", "hostPath": node, "permissions": "r"}],
            "env": ["CDI_TRY=" + self.marker],
            "mounts": [{"hostPath": payload, "containerPath": "/cdi/payload.txt", "options": ["ro", "bind"]}],
            "hooks": [{"hookName": "createContainer", "path": "/bin/true"},
                      {"hookName": "startContainer", "path": "/bin/true"}],
        }}))
        r, report = self.try_json([KIND + "=ok"], ["cat", "/cdi/payload.txt"])
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(report["passed"])
        self.assertEqual(self.checks(report, "fail"), [])
        passed = self.checks(report, "pass")
        self.assertIn(("container", "runc", "started"), passed)
        self.assertIn(("device", "/dev/cdi-try", "c %d:%d, mode 0640" % (major, minor)), passed)
        self.assertIn(("access", "/dev/cdi-try", "open for reading: allowed"), passed)
        if host == "/dev/fuse":
            self.assertIn(("access", "/dev/cdi-try", "open for writing: refused, as the config grants only r"), passed)
        self.assertIn(("control", "/dev/cdi-hook-try-control",
                       "c 240:0, which no rule grants: opening it is refused (Operation not permitted)"), passed)
        self.assertIn(("env", "CDI_TRY=" + self.marker, "set"), passed)
        self.assertIn(("mount", "/cdi/payload.txt", "bind of %s, read-only" % payload), passed)
        self.assertIn(("hook", "createContainer /bin/true", "ran, exit 0"), passed)
        self.assertIn(("hook", "startContainer /bin/true", "ran, exit 0"), passed)
        self.assertIn(("command", "cat /cdi/payload.txt", "exit 0"), passed)
        self.assertEqual(report["command"]["stdout"], "payload %s\n" % self.marker)
        self.assertEqual(report["command"]["exitCode"], 0)

    def test_text_output(self):
        self.write_spec("try.yaml", h.spec(KIND, {"null": {"deviceNodes": [{"path": "/dev/cdi-null",
                                                                             "hostPath": "/dev/null"}]}}))
        r = self.try_([KIND + "=null"], ["echo", self.marker])
        self.assertEqual(r.rc, 0, r)
        lines = r.stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith("try %s=null in a busybox container with " % KIND), lines)
        self.assertIn("ok    device     /dev/cdi-null: c 1:3, mode 0666", lines)
        self.assertIn("command output (echo %s):" % self.marker, lines)
        self.assertIn("  " + self.marker, lines)
        self.assertRegex(lines[-1], r"^PASS: \d+ checks passed$")

    def test_a_node_with_wrong_numbers_fails(self):
        # c 1:99: no driver answers (the mem driver's minors end far below).
        self.write_spec("try.yaml", h.spec(KIND, {"wrong": {
            "deviceNodes": [{"path": "/dev/cdi-wrong", "type": "c", "major": 1, "minor": 99}]}}))
        r, report = self.try_json([KIND + "=wrong"])
        self.assertEqual(r.rc, 1, r)
        self.assertFalse(report["passed"])
        self.assertIn(("device", "/dev/cdi-wrong", "c 1:99"), self.checks(report, "pass"))
        self.assertIn(("access", "/dev/cdi-wrong", "open for reading failed: No such device or address (nothing on "
                       "this host answers to c 1:99: wrong numbers?)"), self.checks(report, "fail"))

    def test_a_failing_hook_fails(self):
        self.write_spec("try.yaml", h.spec(KIND, {"hook": {"hooks": [
            {"hookName": "createRuntime", "path": "/bin/true"},
            {"hookName": "createContainer", "path": "/bin/false"}]}}))
        r, report = self.try_json([KIND + "=hook"], ["echo", "never"])
        self.assertEqual(r.rc, 1, r)
        failed = self.checks(report, "fail")
        self.assertIn(("hook", "createContainer /bin/false", "ran, exit 1"), failed)
        self.assertEqual(failed[0][0], "container")
        self.assertIn("did not start", failed[0][2])
        self.assertIn(("hook", "createRuntime /bin/true", "ran, exit 0"), self.checks(report, "pass"))
        self.assertIn(("command", "echo never", "not checked: the container did not start"),
                      self.checks(report, "skipped"))

    def test_a_missing_mount_source_fails(self):
        missing = self.path("not-there")
        self.write_spec("try.yaml", h.spec(KIND, {"mount": {"mounts": [
            {"hostPath": missing, "containerPath": "/cdi/missing", "options": ["ro", "bind"]}]}}))
        r, report = self.try_json([KIND + "=mount"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn(("mount", "/cdi/missing", "source \"%s\" is not on the host (No such file or directory)" % missing),
                      self.checks(report, "fail"))

    def test_the_guest_map_applies_as_in_the_hook(self):
        self.write_spec("try.yaml", h.spec(KIND, {"g": {"deviceNodes": [{"path": "/dev/cdi-g", "hostPath": "/dev/null"}]}}))
        guest_map = h.write_file(self.path("map.json"), {"devices": [
            {"containerPath": "/dev/cdi-g", "guestType": "c", "guestMajor": 1, "guestMinor": 5}]})
        r, report = self.try_json([KIND + "=g"], extra=["--guest-map", guest_map])
        self.assertEqual(r.rc, 0, r)
        self.assertIn(("device", "/dev/cdi-g", "c 1:5, mode 0666"), self.checks(report, "pass"))

    def test_an_unresolvable_device_is_one_line(self):
        self.write_spec("try.yaml", h.spec(KIND, {"a": {"env": ["A=1"]}}))
        r = self.try_([KIND + "=b"])
        self.assertFailure(r, 'unresolvable CDI device "%s=b"' % KIND)

    def test_own_rootfs_is_left_untouched(self):
        rootfs = h.busybox_rootfs(self.path("rootfs"))
        if rootfs is None:
            self.fail("busybox is not installed (scripts/install-deps.sh installs busybox-static)")
        before = sorted(os.path.relpath(p, rootfs) for p in glob.glob(rootfs + "/**", recursive=True))
        self.write_spec("try.yaml", h.spec(KIND, {"env": {"env": ["OWN=1"]}}))
        r, report = self.try_json([KIND + "=env"], ["ls", "/bin/busybox"], ["--rootfs", rootfs])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(report["rootfs"], rootfs)
        after = sorted(os.path.relpath(p, rootfs) for p in glob.glob(rootfs + "/**", recursive=True))
        self.assertEqual(before, after)
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn(self.tmpdir, f.read())

    def test_sigint_mid_run_leaves_no_container_and_no_temp_dir(self):
        self.write_spec("try.yaml", h.spec(KIND, {"env": {"env": ["A=1"]}}))
        # The marker names the container's shell (not the last command, so the shell stays to run it).
        command = "sleep 3600; echo " + self.marker
        args = [h.binary(), "try"] + self.common_args() + [KIND + "=env", "--", "sh", "-c", command]
        p = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            # The container's process, not try's own command line that names it too.
            while not processes_with(command, b"sh\0-c\0") and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(processes_with(command, b"sh\0-c\0"), "the container never started")
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 130, (out, err))
        self.assertEqual(out, b"")
        self.assertEqual(err.decode(), "cdi-hook: try: stopped by SIGINT; the container and the temp files are removed\n")

    def test_not_root_is_one_line(self):
        r = h.run(["try", KIND + "=x"], prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
                  env=self.env)
        self.assertFailure(r, "try needs root: it creates device nodes and runs a container with runc")

    def test_no_device_is_a_usage_error(self):
        r = h.run(["try", "--", "true"], env=self.env)
        self.assertUsage(r, "name at least one device")


if __name__ == "__main__":
    h.unittest.main()

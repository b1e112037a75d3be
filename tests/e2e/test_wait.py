"""The retry window end to end: specs that appear while the hook waits (inotify, no sleep loops).

Timing bounds are loose (2 shared cores): "well before the window ends" and "after about the window".
"""

import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

import cdihook as h

KIND = "late.example/dev"
DEVICE = KIND + "=a"
SPEC = ('cdiVersion: "0.5.0"\nkind: %s\ndevices:\n- name: a\n  containerEdits:\n'
        '    env: [LATE=1]\n    deviceNodes: [{path: /dev/late, hostPath: /dev/null}]\n' % KIND)


def later(delay, action):
    """Runs action on a background thread after delay seconds."""
    errors = []

    def body():
        time.sleep(delay)
        try:
            action()
        except Exception as e:  # reported by the test, not lost in the thread
            errors.append(e)

    t = threading.Thread(target=body)
    t.start()
    return t, errors


class WaitTest(h.TestCase):
    def run_waiting(self, action, delay, wait=5, spec_dirs=None, state=False):
        config = h.oci_config({"cdi.k8s.io/e2e": DEVICE})
        if state:
            bundle = self.make_bundle(config)
            stdin = h.oci_state(bundle)
        else:
            stdin = config
        t, errors = later(delay, action)
        r = self.hook(stdin, wait=wait, spec_dirs=spec_dirs, extra=["--log-level", "debug"])
        t.join()
        self.assertEqual(errors, [])
        out = h.load_json(os.path.join(bundle, "config.json")) if state else r.json()
        return r, out

    def assertWaitNotice(self, line, wait, dirs=None):
        """The one line a wait starts with: which device, which dirs, how long."""
        self.assertTrue(line.startswith("cdi-hook: container "), line)
        self.assertIn("waiting up to %s s for the spec of \"%s\" to appear in " % (wait, DEVICE), line)
        for d in dirs if dirs is not None else [self.spec_dir]:
            self.assertIn('"%s"' % d, line)

    def assertWaitFailure(self, r, wait):
        """The wait's notice, then the error saying how long it waited."""
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.stdout, b"", r)
        self.assertEqual(len(r.stderr_lines), 2, r)
        self.assertWaitNotice(r.stderr_lines[0], wait)
        self.assertTrue(r.stderr_lines[1].startswith("cdi-hook: unresolvable CDI device \"%s\"" % DEVICE), r)
        self.assertTrue(r.stderr_lines[1].endswith("(waited %s s for it)" % wait), r)

    def assertInjected(self, r, out, delay, wait=5):
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(r.stderr_lines), 1, r)
        self.assertWaitNotice(r.stderr_lines[0], wait, dirs=[])
        self.assertIn("LATE=1", out["process"]["env"])
        self.assertIsNotNone(h.linux_device(out, "/dev/late"))
        self.assertGreaterEqual(r.elapsed, delay * 0.8, r)
        self.assertLess(r.elapsed, wait * 0.7, "finished well before the window ends: %r" % r)

    def test_spec_written_later(self):
        r, out = self.run_waiting(lambda: self.write_spec("late.yaml", SPEC), delay=0.5, state=True)
        self.assertInjected(r, out, 0.5)
        self.assertIn("waiting", self.log_text())

    def test_spec_written_in_place_in_two_halves(self):
        path = os.path.join(self.spec_dir, "late.yaml")
        half = len(SPEC) // 2

        def write_halves():
            with open(path, "w") as f:
                os.chmod(path, 0o644)
                f.write(SPEC[:half])
                f.flush()
                time.sleep(0.4)  # the hook sees (and rejects) the first half meanwhile
                f.write(SPEC[half:])

        r, out = self.run_waiting(write_halves, delay=0.3)
        self.assertInjected(r, out, 0.7)

    def test_spec_moved_in_from_another_dir(self):
        staging = h.make_dir(self.path("staging"))
        src = self.write_spec("late.yaml", SPEC, directory=staging)
        r, out = self.run_waiting(lambda: os.rename(src, os.path.join(self.spec_dir, "late.yaml")), delay=0.5)
        self.assertInjected(r, out, 0.5)

    def test_spec_dir_created_later(self):
        # Neither the spec dir nor its parent exists when the hook starts.
        parent = self.path("run")
        spec_dir = os.path.join(parent, "cdi")

        def create():
            h.make_dir(parent)
            time.sleep(0.2)
            h.make_dir(spec_dir)
            self.write_spec("late.yaml", SPEC, directory=spec_dir)

        r, out = self.run_waiting(create, delay=0.4, spec_dirs=[spec_dir])
        self.assertInjected(r, out, 0.6)

    def test_broken_spec_fixed_later(self):
        self.write_spec("late.yaml", SPEC.replace("env: [LATE=1]", "env: LATE=1"))
        r, out = self.run_waiting(lambda: self.write_spec("late.yaml", SPEC), delay=0.5)
        self.assertInjected(r, out, 0.5)

    def test_nothing_arrives(self):
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), wait=1)
        self.assertWaitFailure(r, 1)
        # The log has the same two lines, each naming the container.
        log = [l for l in self.log_text().splitlines() if "cdi-hook[" in l]
        self.assertEqual(len(log), 2, log)
        self.assertIn('warning: container hostname "cdi-e2e", rootfs "rootfs": waiting up to 1 s', log[0])
        self.assertIn('error: container hostname "cdi-e2e", rootfs "rootfs": unresolvable CDI device', log[1])
        self.assertIn("(waited 1 s for it)", log[1])
        self.assertGreaterEqual(r.elapsed, 0.9, r)
        self.assertLess(r.elapsed, 3, r)
        self.assertLess(r.cpu, 0.5, "a blocked wait, not a polling loop: %r" % r)

    def test_unrelated_changes_do_not_end_the_wait(self):
        def churn():
            for i in range(5):
                self.write_spec("other-%d.yaml" % i, SPEC.replace(KIND, "other.example/dev"))
                h.write_file(os.path.join(self.spec_dir, "notes-%d.txt" % i), "x")
                time.sleep(0.05)

        t, errors = later(0.2, churn)
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), wait=1.5)
        t.join()
        self.assertEqual(errors, [])
        self.assertWaitFailure(r, 1.5)
        self.assertGreaterEqual(r.elapsed, 1.4, r)

    def test_default_wait_for_inject_is_zero(self):
        r = self.inject(h.write_file(self.path("c.json"), h.oci_config({"cdi.k8s.io/e2e": DEVICE})))
        self.assertFailure(r, DEVICE)
        self.assertLess(r.elapsed, 1, r)

    def test_state_mode_log_names_container_and_bundle(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        r = self.hook(h.oci_state(bundle, container_id="ctr-7"), wait=0.2)
        self.assertEqual(r.rc, 1, r)
        self.assertWaitNotice(r.stderr_lines[0], 0.2)
        self.assertIn('container "ctr-7", bundle "%s": waiting up to 0.2 s' % bundle, r.stderr_lines[0])
        log = [l for l in self.log_text().splitlines() if "cdi-hook[" in l]
        self.assertEqual(len(log), 2, log)
        for line in log:
            self.assertIn('container "ctr-7", bundle "%s": ' % bundle, line)

    def test_resolved_requests_do_not_wait(self):
        self.write_spec("late.yaml", SPEC)
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), wait=10)
        self.assertOk(r)
        self.assertLess(r.elapsed, 1, r)


# Holds every inotify instance a user may have (fs.inotify.max_user_instances, counted per user), as
# root daemons together can: runs as UID, opens instances until inotify_init1 fails with EMFILE, says
# how many it holds and keeps them until its stdin closes. The limit itself is left alone.
EXHAUST = r"""
import ctypes, errno, os, resource, sys
uid = int(sys.argv[1])
with open("/proc/sys/fs/inotify/max_user_instances") as f:
    limit = int(f.read())
want = limit + 64
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < want:
    hard = want
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
os.setgroups([])
os.setresgid(uid, uid, uid)
os.setresuid(uid, uid, uid)
libc = ctypes.CDLL(None, use_errno=True)
held = []
while True:
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        err = ctypes.get_errno()
        break
    held.append(fd)
print(len(held), errno.errorcode.get(err, err), limit, flush=True)
sys.stdin.read()
"""


class InotifyExhaustedTest(h.TestCase):
    """With the user's inotify instances used up, --wait falls back to timed rescans (said once, at
    info) instead of failing at once. Runs the hook as a UID of its own (no other process has it), so
    that exhausting that user's instances disturbs nothing else on the machine."""

    UID = 47923

    def test_wait_rescans_on_a_timer_when_inotify_instances_are_used_up(self):
        self.assertEqual(os.geteuid(), 0, "needs root to run the hook as another user")
        self.assertIsNotNone(shutil.which("setpriv"), "setpriv (util-linux) is missing")
        with open("/proc/sys/fs/inotify/max_user_instances") as f:
            limit = int(f.read())
        self.assertLess(limit, 100000, "max_user_instances %d is too large to use up in a test" % limit)
        holder = subprocess.Popen([sys.executable, "-c", EXHAUST, str(self.UID)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait, 30)
        self.addCleanup(holder.stdout.close)
        self.addCleanup(holder.stdin.close)
        held, err, _ = holder.stdout.readline().split()
        self.assertEqual(err, "EMFILE")
        self.assertEqual(int(held), limit, "the user's instances are all held")

        config = self.path("config.json")
        h.write_file(config, h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        t, errors = later(0.5, lambda: self.write_spec("late.yaml", SPEC))
        prefix = ["setpriv", "--reuid=%d" % self.UID, "--regid=%d" % self.UID, "--clear-groups"]
        r = self.inject(config, extra=["--wait", "5", "--log-level", "info"], log=False, cache=False, prefix=prefix)
        t.join()
        self.assertEqual(errors, [])
        self.assertEqual(r.rc, 0, r)
        self.assertIn("LATE=1", r.json()["process"]["env"])
        self.assertEqual(r.stderr.count("cannot watch the spec dirs"), 1, r)
        self.assertIn("inotify_init1: Too many open files", r.stderr)
        self.assertIn("scanning them again every", r.stderr)
        self.assertGreaterEqual(r.elapsed, 0.4, r)
        self.assertLess(r.elapsed, 3.5, r)


if __name__ == "__main__":
    unittest.main()

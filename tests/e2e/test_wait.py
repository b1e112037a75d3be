"""The retry window end to end: specs that appear while the hook waits (inotify, no sleep loops).

Timing bounds are loose (2 shared cores): "well before the window ends" and "after about the window".
"""

import os
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

    def assertInjected(self, r, out, delay, wait=5):
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.stderr, "", r)
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
        self.assertFailure(r, DEVICE)
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
        self.assertFailure(r, DEVICE)
        self.assertGreaterEqual(r.elapsed, 1.4, r)

    def test_default_wait_for_inject_is_zero(self):
        r = self.inject(h.write_file(self.path("c.json"), h.oci_config({"cdi.k8s.io/e2e": DEVICE})))
        self.assertFailure(r, DEVICE)
        self.assertLess(r.elapsed, 1, r)

    def test_resolved_requests_do_not_wait(self):
        self.write_spec("late.yaml", SPEC)
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}), wait=10)
        self.assertOk(r)
        self.assertLess(r.elapsed, 1, r)


if __name__ == "__main__":
    unittest.main()

"""SIGKILL during the state-mode rewrite: whenever the hook dies, <bundle>/config.json is the old file or
the new one, byte for byte, and no temporary file is left beside it.

The config is large (about 8 MB of env entries) so that a run takes tens of milliseconds and the kills,
at random delays, land all through it: reading, injecting, serialising, writing the unnamed temporary
file, syncing, linking and renaming.
"""

import os
import random
import signal
import subprocess
import time

import cdihook as h

DEVICE = "vendor.example/dev=null"
KILLS = 100


class SigkillTest(h.TestCase):
    def test_killed_rewrite_leaves_old_or_new_and_no_temp_file(self):
        self.write_spec("dev.yaml", h.basic_spec(self.tmp))
        env = ["PATH=/usr/bin:/bin"] + ["FILLER_%06d=%s" % (i, "x" * 70) for i in range(100000)]
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": DEVICE}, env=env))
        config = os.path.join(bundle, "config.json")
        old = h.read_bytes(config)
        self.assertGreater(len(old), 7 << 20)

        def restore():
            h.write_file(self.path("restore.json"), old, 0o644)
            os.replace(self.path("restore.json"), config)

        def timed_run():
            """The new file, from an uninterrupted run, and how long a run takes now (the machine's load
            changes, so this is measured again every ten kills)."""
            restore()
            start = time.monotonic()
            r = self.hook(h.oci_state(bundle), timeout=60)
            self.assertOk(r, stdout_empty=True)
            return h.read_bytes(config), time.monotonic() - start

        new, duration = timed_run()
        self.assertNotEqual(new, old)

        args = [h.binary(), "hook"] + self.common_args(wait=0, log=False)
        state = h.to_bytes(h.oci_state(bundle))
        rng = random.Random(int(os.environ.get("CDI_E2E_SEED", "0")) or None)
        outcomes = {"old": 0, "new": 0}
        link_window = 0
        for i in range(KILLS):
            if i % 10 == 9:
                again, duration = timed_run()
                self.assertEqual(again, new)
            restore()
            p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            p.stdin.write(state)
            p.stdin.close()
            # Most kills land in the second half of a run, where the new file is written and committed.
            time.sleep(rng.uniform(0.2, 1.2) * duration)
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=60)
            now = h.read_bytes(config)
            self.assertIn(now, (old, new), "kill %d: config.json is neither the old nor the new file" % i)
            outcomes["old" if now == old else "new"] += 1
            left = sorted(n for n in os.listdir(bundle) if n not in ("config.json", "rootfs"))
            if left:
                # The one state a kill can leave: the new file linked under its temporary name, the rename
                # not yet done (two system calls apart). The next write removes it, its writer being dead.
                self.assertEqual(len(left), 1, left)
                self.assertTrue(left[0].startswith(".config.json.cdi-hook-%d-" % p.pid), left)
                self.assertEqual(now, old)
                self.assertEqual(h.read_bytes(os.path.join(bundle, left[0])), new)
                link_window += 1
                self.assertOk(self.hook(h.oci_state(bundle), timeout=60), stdout_empty=True)
                self.assertOnlyConfig(bundle)
        print("\nSIGKILL test: %d kills over %.0f ms runs: %d old, %d new, %d between link and rename"
              % (KILLS, duration * 1000, outcomes["old"], outcomes["new"], link_window))
        # The kills must have hit both sides of the commit for the test to mean anything.
        self.assertGreater(outcomes["old"], 5)
        self.assertGreater(outcomes["new"], 5)

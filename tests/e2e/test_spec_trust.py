"""What a root hook trusts: spec files judged on the descriptor that is read, symlinked specs judged by
every dir on their way, POSIX ACLs, and never a word of a file that is not a spec.

Runs as root with a real unprivileged user (nobody, uid 65534) and Debian's setfacl; fails, not skips,
without them.
"""

import os
import pwd
import shutil
import subprocess
import sys
import time

import cdihook as h

KIND = "vendor.example/dev"
DEVICE = KIND + "=d"
NOBODY = 65534


def spec_text(tag, hook=None):
    text = 'cdiVersion: "0.5.0"\nkind: %s\ndevices:\n- name: d\n  containerEdits:\n    env: [FROM=%s]\n' % (KIND, tag)
    if hook:
        text += "    hooks:\n    - hookName: createRuntime\n      path: %s\n" % hook
    return text


class TrustTestCase(h.TestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail("needs root: the hook's trust rules are about a root process and another user's files")
        try:
            pwd.getpwuid(NOBODY)
        except KeyError:
            self.fail("needs the user nobody (uid %d)" % NOBODY)
        self.config = h.write_file(self.path("config.json"), h.oci_config())

    def user_dir(self, *parts):
        """A dir (and its parents below tmp) owned by nobody: another user's."""
        path = h.make_dir(self.path(*parts))
        os.chown(self.path(parts[0]), NOBODY, NOBODY)
        os.chown(path, NOBODY, NOBODY)
        return path

    def inject_device(self, **kw):
        return self.inject(self.config, devices=[DEVICE], **kw)

    def list_problems(self):
        r = h.run(["list", "--spec-dir", self.spec_dir, "--output", "json"])
        self.assertEqual(r.rc, 0, r)
        return {os.path.basename(p["path"]): p for p in r.json()["problems"]}


class SymlinkedSpecTest(TrustTestCase):
    def test_user_file_behind_a_link_in_a_root_dir_is_refused(self):
        specs = self.user_dir("home", "specs")
        h.write_file(os.path.join(specs, "s.yaml"), spec_text("user"))  # root-owned file, user's dir
        os.symlink("../home/specs/s.yaml", os.path.join(self.spec_dir, "vendor.yaml"))
        r = self.inject_device()
        self.assertFailure(r, "vendor.yaml", 'reached through "%s", which is owned by uid %d' %
                           (self.path("home"), NOBODY))
        self.assertNotIn("FROM=user", r.stderr)
        problem = self.list_problems()["vendor.yaml"]
        self.assertTrue(problem["ignoredForPermissions"], problem)
        # --allow-insecure-specs is the way to use it anyway.
        r = self.inject_device(extra=["--allow-insecure-specs"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(h.env_map(r.json())["FROM"], "user")

    def test_link_through_trusted_dirs_is_used(self):
        h.write_file(self.path("vendor", "real.yaml"), spec_text("root"))
        os.symlink("../vendor/real.yaml", os.path.join(self.spec_dir, "vendor.yaml"))
        r = self.inject_device()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(h.env_map(r.json())["FROM"], "root")

    def test_absolute_link_through_world_writable_tmp_is_refused(self):
        # The walk from / meets /tmp (mode 1777): the sticky bit does not make it root's.
        h.write_file(self.path("vendor", "real.yaml"), spec_text("root"))
        os.symlink(self.path("vendor", "real.yaml"), os.path.join(self.spec_dir, "vendor.yaml"))
        tmp_parent = os.path.dirname(self.tmp)
        if os.stat(tmp_parent).st_mode & 0o002 == 0:
            self.fail("expected the temp dir's parent %s to be world-writable" % tmp_parent)
        r = self.inject_device()
        self.assertFailure(r, "vendor.yaml", 'reached through "%s", which is writable by every user' % tmp_parent)


class NotASpecTest(TrustTestCase):
    SECRET = "s3cret-Hunter2"

    def assertNothingLeaks(self, r):
        for text in (r.stderr, r.stdout.decode(errors="replace"), self.log_text()):
            self.assertNotIn(self.SECRET, text)
            self.assertNotIn("root:", text)

    def test_root_only_file_linked_in_is_not_quoted(self):
        private = h.make_dir(self.path("private"), 0o700)
        secret = h.write_file(os.path.join(private, "shadow"),
                              "root:*:20228:0:99999:7:::\nalice:$6$%s:20228:0:99999:7:::\n" % self.SECRET, 0o600)
        os.symlink("../private/shadow", os.path.join(self.spec_dir, "vendor.yaml"))
        r = self.inject_device()
        self.assertFailure(r, "vendor.yaml", "not a CDI spec", "its content is not shown")
        self.assertNothingLeaks(r)
        for cmd in (["list", "--spec-dir", self.spec_dir],
                    ["list", "--spec-dir", self.spec_dir, "--output", "json"]):
            r = h.run(cmd)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("not a CDI spec", r.stdout.decode(), r)
            self.assertNothingLeaks(r)
        self.assertTrue(os.path.exists(secret))

    def test_etc_shadow_linked_in_is_not_quoted(self):
        # The case as found: the hook's error (and log) quoted `unknown field "root:*:..."`.
        with open("/etc/shadow") as f:
            self.assertTrue(f.readline().startswith("root:"), "unexpected /etc/shadow")
        os.symlink("/etc/shadow", os.path.join(self.spec_dir, "vendor.yaml"))
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
        self.assertFailure(r, "vendor.yaml", "not a CDI spec")
        for text in (r.stderr, self.log_text()):
            self.assertNotIn("root:", text)


class AclTest(TrustTestCase):
    def setUp(self):
        super().setUp()
        self.setfacl = shutil.which("setfacl")
        if self.setfacl is None:
            self.fail("setfacl is not installed (scripts/install-deps.sh installs the acl package)")
        self.spec = self.write_spec("a.yaml", spec_text("root"))

    def setfacl_(self, *args):
        subprocess.run([self.setfacl] + list(args), check=True, capture_output=True)

    def test_file_acl(self):
        cases = [  # setfacl entries on a root:root 0644 file, and the refusal expected (None: used)
            ("u:nobody:rw", "spec file is writable by uid %d (access ACL)" % NOBODY),
            ("g:nogroup:rw", "spec file is writable by group %d (access ACL)" % NOBODY),
            ("u:nobody:r", None),
            ("u:nobody:rw,m::r", None),  # the mask takes write away
            ("u:root:rw", None),
        ]
        for entries, refusal in cases:
            with self.subTest(entries=entries):
                self.setfacl_("-b", self.spec)
                os.chmod(self.spec, 0o644)
                self.setfacl_("-m", entries, self.spec)
                r = self.inject_device()
                if refusal is None:
                    self.assertEqual(r.rc, 0, r)
                    self.assertEqual(h.env_map(r.json())["FROM"], "root")
                    continue
                self.assertEqual(os.stat(self.spec).st_gid, 0)  # the mode alone would pass it
                self.assertFailure(r, "a.yaml", refusal)
                # The same through the kind index, warm or cold.
                for _ in range(2):
                    r = self.hook(h.oci_config({"cdi.k8s.io/e2e": DEVICE}))
                    self.assertFailure(r, "a.yaml", refusal)

    def test_dir_acl(self):
        self.setfacl_("-m", "u:nobody:rwx", self.spec_dir)
        r = self.inject_device()
        self.assertFailure(r, DEVICE)
        self.assertIn("spec dir is writable by uid %d (access ACL)" % NOBODY, self.log_text())
        self.setfacl_("-m", "u:nobody:rx", self.spec_dir)
        r = self.inject_device()
        self.assertEqual(r.rc, 0, r)

    def test_acl_on_a_dir_on_a_links_way(self):
        h.write_file(self.path("vendor", "real.yaml"), spec_text("vendor"))
        os.symlink("../vendor/real.yaml", os.path.join(self.spec_dir, "v.yaml"))
        os.remove(self.spec)
        self.setfacl_("-m", "g:nogroup:rwx", self.path("vendor"))
        r = self.inject_device()
        self.assertFailure(r, "v.yaml", 'reached through "%s", which is writable by group %d (access ACL)'
                           % (self.path("vendor"), NOBODY))


FLIPPER = r"""
import os, sys
specs, root_target, stop = sys.argv[1:4]
link = os.path.join(specs, "s.yaml")
own, via = os.path.join(specs, ".own"), os.path.join(specs, ".via")
flips = 0
while not os.path.exists(stop):
    for src in (own, via):
        if src == own:
            with open(own + ".w", "w") as f:
                f.write(sys.argv[4])
            os.replace(own + ".w", own)
            os.replace(own, link)
        else:
            try:
                os.remove(via)
            except FileNotFoundError:
                pass
            os.symlink(root_target, via)
            os.replace(via, link)
        flips += 1
print(flips)
"""


class RaceTest(TrustTestCase):
    RUNS = 300

    def test_flipping_link_never_injects_the_users_spec(self):
        # vendor.yaml (root's link) -> home/specs/s.yaml, which nobody flips between a link to a root-owned
        # spec and a spec of their own whose host hook would create a marker file.
        specs = self.user_dir("home", "specs")
        h.write_file(self.path("vendor", "real.yaml"), spec_text("root"))
        marker = self.path("pwned")
        payload = h.write_file(self.path("pwn.sh"), "#!/bin/sh\ntouch %s\n" % marker, 0o755)
        os.symlink("../home/specs/s.yaml", os.path.join(self.spec_dir, "vendor.yaml"))
        stop = self.path("stop")
        flipper = subprocess.Popen(
            [sys.executable, "-c", FLIPPER, specs, "../../vendor/real.yaml", stop, spec_text("user", payload)],
            user=NOBODY, group=NOBODY, extra_groups=[], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: flipper.poll() is None and flipper.kill())
        deadline = time.monotonic() + 10
        while not os.path.lexists(os.path.join(specs, "s.yaml")):
            self.assertLess(time.monotonic(), deadline, "the flipper did not start")
            time.sleep(0.01)
        config = h.oci_config({"cdi.k8s.io/e2e": DEVICE})
        for i in range(self.RUNS):
            r = self.hook(config, cache=(i % 2 == 0))
            self.assertNotIn(b"FROM=user", r.stdout, r)
            self.assertNotIn(payload.encode(), r.stdout, r)
            self.assertEqual(r.rc, 1, r)
        h.write_file(stop, "")
        out, err = flipper.communicate(timeout=30)
        self.assertEqual(flipper.returncode, 0, err)
        self.assertGreater(int(out), self.RUNS // 5, "the link must have flipped all through the runs")
        self.assertFalse(os.path.exists(marker))
        self.assertNotIn("FROM=user", self.log_text())

"""The Debian package, as root: CPack makes it from the build under test, `dpkg -i` installs it, the
installed binary, hook file, runtime link and runtime.conf inject, and `dpkg --purge` leaves nothing
behind: the file lists of /usr, /etc, /opt, /var/log and /run are the same as before for every path the
package holds (`dpkg-deb -c`, directories included) and every path named after cdi-hook. Other
differences are other programs' doing on a shared machine.

The injections and the purge run in a private mount namespace with a tmpfs on /run, so the index cache
they make in /run/cdi-hook, and the one the purge must remove, are theirs. Runs of this test from other build trees wait for each other (a lock in
/run/lock), and dpkg is retried while another program holds its lock. Fails (does not skip) without root,
dpkg or cpack, and when a cdi-hook package is already installed (the test does not touch a real
installation).
"""

import fcntl
import json
import os
import shutil
import subprocess
import time

import cdihook as h

WATCHED = ("/usr", "/etc", "/opt", "/var/log", "/run", "/var/lib/dpkg/info", "/var/lib/dpkg/alternatives")
LOCK = "/run/lock/cdi-hook-e2e-package.lock"


def file_list():
    out = set(WATCHED)
    for top in WATCHED:
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                out.add(os.path.join(root, name))
    return out


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


def dpkg(*args, run=sh):
    """dpkg ARGS (through run), retried for up to two minutes while another program (apt, say) holds
    dpkg's lock."""
    deadline = time.monotonic() + 120
    while True:
        p = run(["dpkg"] + list(args))
        if p.returncode == 0 or "lock" not in p.stderr or time.monotonic() > deadline:
            return p
        time.sleep(1)


def package_paths(deb):
    """The absolute paths a .deb holds, its directories included (dpkg-deb -c: "./usr/bin/x")."""
    listing = sh(["dpkg-deb", "-c", deb]).stdout.splitlines()
    out = set()
    for line in listing:
        path = line.split(None, 5)[5].split(" -> ")[0]
        path = "/" + path.lstrip("./").rstrip("/")
        if path != "/":
            out.add(path)
    return out


def in_private_run(args, **kw):
    """args in a mount namespace of their own with a tmpfs on /run."""
    return sh(["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount -t tmpfs tmpfs /run && exec "$@"', "sh"] + list(args), **kw)


def purge_in_private_run(args):
    """The purge in a private /run holding a kind index cache: the postrm removes that cache, and only
    that one (a cache another cdi-hook keeps in the real /run/cdi-hook is not the test's to lose)."""
    check = ('mkdir /run/cdi-hook && : > /run/cdi-hook/kinds-0.idx && "$@" || exit; '
             '[ ! -e /run/cdi-hook ] || { echo "purge left /run/cdi-hook" >&2; exit 1; }')
    return in_private_run(["sh", "-c", check, "sh"] + list(args))


class DebianPackageTest(h.TestCase):
    maxDiff = None

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.fail("the package test installs a package: run the e2e tests as root")
        for tool in ("dpkg", "dpkg-deb", "cpack"):
            if shutil.which(tool) is None:
                self.fail("%s is not installed (scripts/install-deps.sh installs cmake and dpkg)" % tool)
        self.build_dir = os.path.dirname(os.path.dirname(h.binary()))  # <build>/src/cdi-hook
        self.cpack_config = os.path.join(self.build_dir, "CPackConfig.cmake")
        if not os.path.exists(self.cpack_config):
            self.fail("no CPackConfig.cmake in %s" % self.build_dir)
        os.makedirs(os.path.dirname(LOCK), exist_ok=True)
        lock = open(LOCK, "w")
        self.addCleanup(lock.close)
        deadline = time.monotonic() + 600
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.fail("another run of this test held %s for ten minutes" % LOCK)
                time.sleep(0.5)
        if sh(["dpkg-query", "-W", "cdi-hook"]).returncode == 0:
            self.fail("a cdi-hook package is installed on this machine: this test installs and purges its own")

    def build_package(self):
        out = h.make_dir(self.path("package"))
        p = sh(["cpack", "--config", self.cpack_config, "-B", out], timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, os.listdir(out))
        return os.path.join(out, debs[0])

    def test_install_inject_and_purge(self):
        deb = self.build_package()
        fields = sh(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture"]).stdout
        self.assertIn("Package: cdi-hook", fields)
        ours = package_paths(deb)
        self.assertIn("/usr/bin/cdi-hook", ours)
        # The man pages and completions generated from the command tree (cmake/CdiHookDocs.cmake).
        for path in ("/usr/share/man/man1/cdi-hook.1", "/usr/share/man/man1/cdi-hook-runtime.1",
                     "/usr/share/bash-completion/completions/cdi-hook", "/usr/share/zsh/vendor-completions/_cdi-hook",
                     "/usr/share/fish/vendor_completions.d/cdi-hook.fish"):
            self.assertIn(path, ours)

        def concerned(path):
            return path in ours or "cdi-hook" in os.path.basename(path) or "/cdi-hook" in path

        before = file_list()
        installed = dpkg("-i", deb)
        try:
            self.assertEqual(installed.returncode, 0, installed.stdout + installed.stderr)
            self.assertTrue(ours <= file_list(), sorted(ours - file_list()))
            self.check_installed()
        finally:
            purged = dpkg("--purge", "cdi-hook", run=purge_in_private_run)
        self.assertEqual(purged.returncode, 0, purged.stdout + purged.stderr)
        self.assertNotEqual(sh(["dpkg-query", "-W", "cdi-hook"]).returncode, 0)
        after = file_list()
        self.assertEqual(sorted(p for p in after - before if concerned(p)), [], "left behind by the package")
        self.assertEqual(sorted(p for p in before - after if concerned(p)), [],
                         "removed by the package although it was there before")

    def check_installed(self):
        status = sh(["dpkg-query", "-s", "cdi-hook"]).stdout
        self.assertIn("Status: install ok installed", status)
        self.assertIn("/etc/cdi-hook/runtime.conf", status)  # a conffile
        self.assertIn("/etc/containers/podman-hooks.d/cdi-hook-precreate.json", status)

        man = sh(["man", "-P", "cat", "cdi-hook"], env=dict(os.environ, MANWIDTH="100"))
        self.assertEqual(man.returncode, 0, man.stderr)
        self.assertIn("cdi-hook runtime", man.stdout)

        version = sh(["/usr/bin/cdi-hook", "--version"])
        self.assertEqual(version.returncode, 0, version.stderr)
        lines = version.stdout.splitlines()
        self.assertRegex(lines[0], r"^cdi-hook \d+\.\d+\.\d+ \(git [0-9a-f]{7,}(-dirty)?\)$")
        self.assertEqual(lines[2], "cdi-hook-runtime options: /etc/cdi-hook/runtime.conf")

        # The snippets name the installed binaries, nothing else.
        for root, _, files in os.walk("/usr/share/cdi-hook/hooks"):
            for name in files:
                with open(os.path.join(root, name)) as f:
                    text = f.read()
                self.assertNotIn("/usr/local/bin/cdi-hook", text, name)
                self.assertNotIn("@", text, name)
        with open("/usr/share/cdi-hook/hooks/runtime/containerd-cdi-hook.toml") as f:
            self.assertIn('BinaryName = "/usr/bin/cdi-hook-runtime"', f.read())

        # podman's precreate hook, run exactly as the installed hook file says, with the installed example specs.
        hook = h.load_json("/etc/containers/podman-hooks.d/cdi-hook-precreate.json")["hook"]
        self.assertEqual(hook["path"], "/usr/bin/cdi-hook")
        specs = "/usr/share/doc/cdi-hook/examples/cdi-specs"
        config = h.oci_config(annotations={"cdi.k8s.io/x": "example.com/char=zero"})
        p = in_private_run(["env", "-i"] + hook["env"] + [hook["path"]] + hook["args"][1:] + ["--spec-dir", specs],
                           input=json.dumps(config))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(h.linux_device(out, "/dev/cdi-zero")["major"], 1)
        self.assertIn("EXAMPLE_DEVICE=zero", out["process"]["env"])

        # The runtime wrapper through its link reads the installed runtime.conf (runtime = /usr/sbin/runc)
        # and passes a command that is not create or run straight to runc.
        p = in_private_run(["/usr/bin/cdi-hook-runtime", "--version"], env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("runc version"), p.stdout)
        with open("/etc/cdi-hook/runtime.conf") as f:
            self.assertIn("runtime = /usr/sbin/runc", f.read())


if __name__ == "__main__":
    h.unittest.main()

"""The man page and the shell completions come from the command tree that prints --help
(cdi-hook __generate, run by the build's cdi-hook-docs target): every command and option that --help
shows is in the man page, and bash completes commands, options and option values."""

import os
import re
import shutil
import subprocess
import unittest

import cdihook as h

OPTION = re.compile(r"^\s+(?:(-\w),)?(--[\w-]+)", re.M)


def help_text(words):
    r = h.run(list(words) + ["--help"])
    assert r.rc == 0, r
    return r.stdout.decode()


commands = h.command_paths


def roff(text):
    return text.replace("\\", "\\e").replace("-", "\\-")


class ManPage(h.TestCase):
    def setUp(self):
        super().setUp()
        r = h.run(["__generate", "man"])
        self.assertEqual(r.rc, 0, r)
        self.man = r.stdout.decode()

    def test_names_every_command_and_option_help_shows(self):
        paths = commands()
        self.assertGreaterEqual(len(paths), 14)
        for path in paths:
            with self.subTest(" ".join(path) or "cdi-hook"):
                if path:
                    self.assertIn('.SS "%s' % roff("cdi-hook " + " ".join(path)), self.man)
                for short, long in OPTION.findall(help_text(path).split("Options:", 1)[1]):
                    self.assertIn("\\fB%s\\fR" % roff(long), self.man)
                    if short:
                        self.assertIn("\\fB%s\\fR" % roff(short), self.man)

    def test_names_every_runtime_variable(self):
        conf = open(os.path.join(h.HOOKS_DIR, "runtime", "runtime.conf")).read()
        for var in sorted(set(re.findall(r"CDI_HOOK_[A-Z_]+", conf))):
            self.assertIn(roff(var), self.man)

    def test_renders_without_warnings(self):
        path = h.write_file(self.path("cdi-hook.1"), self.man)
        p = subprocess.run(["groff", "-man", "-ww", "-z", path], capture_output=True, text=True)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        p = subprocess.run(["man", "-l", "-P", "cat", path], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="100"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--wait SECONDS", p.stdout)
        self.assertIn("EXIT STATUS", p.stdout)

    def test_the_build_made_the_same_files(self):
        doc = os.path.join(os.path.dirname(os.path.dirname(h.binary())), "doc")
        for name, what in (("cdi-hook.1", "man"), ("cdi-hook.bash", "bash"), ("_cdi-hook", "zsh"),
                           ("cdi-hook.fish", "fish")):
            with self.subTest(name):
                with open(os.path.join(doc, name), "rb") as f:
                    self.assertEqual(f.read(), h.run(["__generate", what]).stdout)
        self.assertEqual(h.read_bytes(os.path.join(doc, "cdi-hook-runtime.1")), b".so man1/cdi-hook.1\n")


class RuntimeConf(h.TestCase):
    """The shipped runtime.conf names every key of the wrapper and parses."""

    CONF = os.path.join(h.HOOKS_DIR, "runtime", "runtime.conf")

    def test_documents_every_key(self):
        text = open(self.CONF).read()
        keys = [l[2:] for _, l in OPTION.findall(help_text(["runtime"]).split("Options:", 1)[1]) if l != "--help"]
        self.assertGreaterEqual(len(keys), 10)
        for key in keys:
            self.assertRegex(text, r"(?m)^(# )?%s = " % re.escape(key))

    def test_parses(self):
        link = os.path.join(self.tmp, "cdi-hook-runtime")
        os.symlink(h.binary(), link)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CDI_HOOK_RUNTIME_CONFIG": self.CONF}
        p = subprocess.run([link, "--version"], capture_output=True, env=env, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"runc version", p.stdout)


class Logrotate(h.TestCase):
    """hooks/logrotate/cdi-hook, run by Debian's logrotate on temp copies of the log files: the hook
    goes on logging into the new file, and nothing it wrote is lost."""

    SNIPPET = os.path.join(h.HOOKS_DIR, "logrotate", "cdi-hook")

    def test_rotation_loses_nothing(self):
        logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
        self.assertTrue(os.access(logrotate, os.X_OK), "logrotate is not installed (scripts/install-deps.sh)")
        text = open(self.SNIPPET).read()
        self.assertIn("/var/log/cdi-hook.log", text)
        self.assertIn("/var/log/cdi-hook-runtime.log", text)
        logs = h.make_dir(self.path("log"))
        conf = h.write_file(self.path("logrotate.conf"), text.replace("/var/log/", logs + "/"))
        bad = h.oci_config({"cdi.k8s.io/x": "vendor.example/dev=missing"})
        first = self.hook(bad)
        self.assertEqual(first.rc, 1, first)
        p = subprocess.run([logrotate, "--force", "--state", self.path("state"), conf], capture_output=True,
                           text=True)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(self.log_text(), "", "rotated away; logrotate made a new, empty file")
        second = self.hook(bad)
        self.assertEqual(second.rc, 1, second)
        rotated = os.path.join(logs, "cdi-hook.log.1")
        self.assertIn("unresolvable", open(rotated).read())
        self.assertEqual(len([l for l in self.log_text().splitlines() if "unresolvable" in l]), 1)

    def setUp(self):
        super().setUp()
        self.log_file = os.path.join(self.tmp, "log", "cdi-hook.log")


class BashCompletion(h.TestCase):
    def setUp(self):
        super().setUp()
        r = h.run(["__generate", "bash"])
        self.assertEqual(r.rc, 0, r)
        self.script = h.write_file(self.path("cdi-hook.bash"), r.stdout)

    def complete(self, *words):
        """COMPREPLY for a command line whose last word is being completed, from a real bash."""
        words = ["cdi-hook"] + list(words)
        program = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
                   '_cdi_hook; printf "%s\\n" "${COMPREPLY[@]}"')
        p = subprocess.run(["bash", "-c", program, "bash", self.script] + words, capture_output=True, text=True,
                           cwd=self.tmp, timeout=10)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        return [w for w in p.stdout.splitlines() if w]

    def test_commands(self):
        self.assertEqual(self.complete(""), [p[0] for p in commands() if len(p) == 1])
        self.assertEqual(self.complete("inj"), ["inject"])
        self.assertIn("translate", self.complete("guest", ""))

    def test_options_of_each_command(self):
        for path in commands()[1:]:
            with self.subTest(" ".join(path)):
                shown = sorted({long for _, long in OPTION.findall(help_text(path).split("Options:", 1)[1])})
                offered = sorted(w for w in self.complete(*path, "--") if w.startswith("--"))
                self.assertEqual(offered, shown)

    def test_option_values(self):
        self.assertEqual(self.complete("inject", "--output", ""), ["text", "json"])
        self.assertEqual(self.complete("hook", "--log-level", "w"), ["warning"])
        self.assertEqual(self.complete("hook", "--cache-dir", ""), ["auto", "none"])
        h.write_file(self.path("config.json"), "{}")
        self.assertEqual(self.complete("inject", "--config", "conf"), ["config.json"])

    def test_a_value_is_not_taken_for_a_command(self):
        # "guest" is the value of --spec-dir here, not the guest command.
        self.assertIn("--config", self.complete("inject", "--spec-dir", "guest", "--c"))

    def test_nothing_after_dashes(self):
        self.assertEqual(self.complete("runtime", "--", "cre"), [])


if __name__ == "__main__":
    unittest.main()

"""Command line: usage errors exit 2, --version, --help on each subcommand."""

import os
import re
import unittest

import cdihook as h


class CliTest(h.TestCase):
    def test_version(self):
        r = h.run(["--version"])
        self.assertEqual(r.rc, 0, r)
        release, versions, runtime_conf = r.stdout.decode().splitlines()
        # The release and the commit it was built from (git describe; "unknown" outside a checkout).
        self.assertRegex(release, r"^cdi-hook \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)$")
        self.assertEqual(versions, "CDI spec versions: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0, 0.6.0, 0.7.0, 0.8.0, "
                                   "1.0.0, 1.1.0")
        # Beside the binary's installation: <build>/src/cdi-hook -> <build>/etc.
        build = os.path.dirname(os.path.dirname(os.path.realpath(h.binary())))
        self.assertEqual(runtime_conf, "cdi-hook-runtime options: %s/etc/cdi-hook/runtime.conf" % build)

    def test_help(self):
        for args, must_mention in [(["--help"], ["hook", "inject"]),
                                   (["hook", "--help"], ["--spec-dir", "--wait", "--log-file", "--log-level",
                                                         "--cache-dir", "--allow-insecure-specs"]),
                                   (["inject", "--help"], ["--config", "--device", "--in-place", "--spec-dir",
                                                           "--wait"])]:
            with self.subTest(args=args):
                r = h.run(args)
                self.assertEqual(r.rc, 0, r)
                text = r.stdout.decode()
                self.assertIn("Usage", text)
                for m in must_mention:
                    self.assertIn(m, text)

    def test_help_on_every_subcommand(self):
        text = h.run(["--help"]).stdout.decode()
        subcommands = re.findall(r"^  ([a-z][a-z-]*)\s", text.split("Subcommands:", 1)[1], re.M)
        self.assertIn("hook", subcommands)
        self.assertIn("inject", subcommands)
        for sub in subcommands:
            with self.subTest(sub):
                r = h.run([sub, "--help"])
                self.assertEqual(r.rc, 0, r)
                self.assertIn("Usage", r.stdout.decode())
                self.assertEqual(r.stderr, "", r)

    def test_hook_default_wait_is_ten_seconds(self):
        text = h.run(["hook", "--help"]).stdout.decode()
        self.assertRegex(text, r"--wait\s+\S*=10\b")
        text = h.run(["inject", "--help"]).stdout.decode()
        self.assertRegex(text, r"--wait\s+\S*=0\b")

    def test_usage_errors_exit_2(self):
        config = h.write_file(self.path("c.json"), h.oci_config())
        cases = [
            ("no subcommand", []),
            ("unknown subcommand", ["frobnicate"]),
            ("unknown flag", ["hook", "--frobnicate"]),
            ("unknown top-level flag", ["--frobnicate", "hook"]),
            ("negative wait", ["hook", "--wait", "-1"]),
            ("wait not a number", ["hook", "--wait", "soon"]),
            ("flag without value", ["hook", "--spec-dir"]),
            ("inject without --config", ["inject"]),
            ("extra positional argument", ["inject", "--config", config, "surplus"]),
            ("hook positional argument", ["hook", "surplus"]),
            ("unknown log level", ["hook", "--log-level", "loud"]),
            ("inject unknown log level", ["inject", "--config", config, "--log-level", "loud"]),
        ]
        for name, args in cases:
            with self.subTest(name):
                r = h.run(args, stdin=h.oci_config())
                self.assertUsage(r)

    def test_usage_error_does_not_read_or_write(self):
        config = h.oci_config({"cdi.k8s.io/x": "vendor.example/dev=a"})
        bundle = self.make_bundle(config)
        r = h.run(["hook", "--log-level", "loud"], stdin=h.oci_state(bundle))
        self.assertUsage(r, "loud")
        self.assertEqual(h.load_json(bundle + "/config.json"), config)

    def test_help_lists_the_subcommands_once(self):
        text = h.run(["--help"]).stdout.decode()
        self.assertEqual(len(re.findall(r"^\s+hook\b", text, re.M)), 1, text)


if __name__ == "__main__":
    unittest.main()

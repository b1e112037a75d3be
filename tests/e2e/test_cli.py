"""Command line: usage errors exit 2, --version, --help on each subcommand."""

import os
import re
import subprocess
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
        self.assertRegex(text, r"--wait SECONDS\s.*\(default: 10\)")
        text = h.run(["inject", "--help"]).stdout.decode()
        self.assertRegex(text, r"--wait SECONDS\s.*\(default: 0\)")

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


# What a parser's internals look like in help and errors: type names, enum maps, huge ranges.
PARSER_INTERNALS = re.compile(r"\bENUM\b|\bFLOAT\b|NONNEGATIVE|\bTEXT\b|\bU?INT\b|->|\bOR \{|\d{20,}")


class Messages(h.TestCase):
    """Help and usage errors a person reads: no parser internals, pointers at the right help."""

    def test_help_shows_no_parser_internals(self):
        paths = h.command_paths()
        self.assertIn(["guest", "translate"], paths)
        for path in paths:
            with self.subTest(" ".join(path) or "top"):
                r = h.run(path + ["--help"])
                self.assertEqual(r.rc, 0, r)
                self.assertNotRegex(r.stdout.decode(), PARSER_INTERNALS)

    def test_help_names_values_in_words(self):
        text = h.run(["inject", "--help"]).stdout.decode()
        self.assertRegex(text, r"--output text\|json\s")
        self.assertRegex(text, r"--wait SECONDS\s.*\(0 to 3600; 0 fails at once\)")
        self.assertRegex(text, r"--spec-dir DIR\s.*\(repeatable\)")
        self.assertRegex(text, r"--log-level LEVEL\s.*trace, debug, info, warning, error or off")

    def test_unknown_command_suggests_the_near_one(self):
        r = h.run(["injetc"])
        self.assertUsage(r, 'cdi-hook: unknown command "injetc" (did you mean "inject"?)')
        r = h.run(["frobnicate"])
        self.assertUsage(r, 'unknown command "frobnicate": expected one of hook, inject')

    def test_usage_errors_point_at_the_command_help(self):
        config = h.write_file(self.path("c.json"), h.oci_config())
        cases = [
            (["inject", "--config", config, "--diff", "--explain"], "cdi-hook inject"),
            (["inject", "--config", config, "--output", "xml"], "cdi-hook inject"),
            (["inject"], "cdi-hook inject"),
            (["hook", "--frobnicate"], "cdi-hook hook"),
            (["list", "--vendors", "--specs"], "cdi-hook list"),
            (["guest", "translate", "--config", config], "cdi-hook guest translate"),
            (["runtime", "--log-level", "bogus", "--", "create", "x"], "cdi-hook runtime"),
            (["runtime", "--wait", "soon", "--", "create", "x"], "cdi-hook runtime"),
            (["validate", "--spec-dir", self.spec_dir, config], "cdi-hook validate"),
        ]
        for args, command in cases:
            with self.subTest(args=args):
                r = h.run(args, stdin=b"")
                self.assertUsage(r)
                self.assertEqual(r.stderr_lines[-1], "Run '%s --help' for usage." % command, r)
                self.assertEqual(len(r.stderr_lines), 2, r)

    def test_runtime_usage_errors_exit_2_like_hook_and_inject(self):
        for args in (["hook", "--log-level", "bogus"], ["inject", "--config", "-", "--log-level", "bogus"],
                     ["runtime", "--log-level", "bogus", "--", "create", "--bundle", self.tmp, "x"]):
            with self.subTest(args[0]):
                r = h.run(args, stdin=b"{}")
                self.assertUsage(r, 'cdi-hook: --log-level: expected trace, debug, info, warning, error or off, '
                                    'got "bogus"')

    def test_wait_out_of_range_is_a_usage_error(self):
        for value in ("1e300", "-5", "nan", "inf", "1e18", "abc", "3601"):
            with self.subTest(value):
                r = h.run(["hook", "--wait", value], stdin=h.oci_config())
                self.assertUsage(r, 'cdi-hook: --wait: expected seconds between 0 and 3600, got "%s"' % value)

    def test_list_and_validate_take_the_common_options(self):
        self.write_spec("s.yaml", h.spec("vendor.example/dev", {"a": {"env": ["A=1"]}}))
        r = h.run(["list", "--spec-dir", self.spec_dir, "--log-level", "debug", "--allow-insecure-specs"])
        self.assertEqual(r.rc, 0, r)
        self.assertIn("vendor.example/dev=a", r.stdout.decode())
        r = h.run(["validate", "--spec-dir", self.spec_dir, "--log-level", "debug"])
        self.assertEqual(r.rc, 0, r)
        self.assertIn("s.yaml: valid", r.stdout.decode())
        self.assertIn("debug: checking", r.stderr)

    def test_list_and_validate_on_a_host_without_spec_dirs(self):
        # /etc and /var/run as empty tmpfs in a private mount namespace: the default spec dirs are absent.
        inner = 'mount -t tmpfs none /etc && mount -t tmpfs none /var/run && exec "$@"'

        def hidden(*args):
            p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "sh", h.binary()]
                               + list(args), capture_output=True, timeout=30)
            return h.Run(args, p.returncode, p.stdout, p.stderr.decode(), 0, 0)

        r = hidden("validate")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.stdout, b'no spec dir exists ("/etc/cdi", "/var/run/cdi"): nothing to validate\n')
        r = hidden("list")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.stderr, 'cdi-hook: no spec dir exists ("/etc/cdi", "/var/run/cdi"): no devices to list\n')

    def test_list_and_validate_without_spec_dirs_say_so(self):
        missing = [self.path("no-such-1"), self.path("no-such-2")]
        r = h.run(["list", "--spec-dir", missing[0], "--spec-dir", missing[1]])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.stderr, 'cdi-hook: no spec dir exists ("%s", "%s"): no devices to list\n' % tuple(missing))
        r = h.run(["validate", "--spec-dir", missing[0]])
        self.assertEqual(r.rc, 1, r)
        self.assertIn(missing[0], r.stdout.decode())


class SpecDirsNamed(h.TestCase):
    def test_missing_kind_says_which_dirs_do_not_exist_or_are_empty(self):
        missing = self.path("no-such-dir")
        empty = h.make_dir(self.path("empty"))
        self.write_spec("s.yaml", h.spec("vendor.example/dev", {"a": {"env": ["A=1"]}}))
        r = self.hook(h.oci_config({"cdi.k8s.io/x": "other.example/kind=a"}),
                      spec_dirs=[missing, empty, self.spec_dir])
        self.assertFailure(r, 'no spec of kind "other.example/kind" in "%s" (does not exist), "%s" (no spec files), '
                              '"%s"' % (missing, empty, self.spec_dir))


class Annotate(h.TestCase):
    def test_the_same_devices_get_the_same_key_in_any_order(self):
        keys = set()
        for names in (["v.example/gpu=0", "v.example/gpu=1"], ["v.example/gpu=1", "v.example/gpu=0"],
                      ["v.example/gpu=1", "v.example/gpu=0", "v.example/gpu=1"]):
            r = h.run(["annotate"] + names)
            self.assertEqual(r.rc, 0, r)
            key, _, value = r.stdout.decode().strip().partition("=")
            self.assertEqual(value, ",".join(names))
            keys.add(key)
        self.assertEqual(len(keys), 1, keys)
        other = h.run(["annotate", "v.example/gpu=0"]).stdout.decode().partition("=")[0]
        self.assertNotIn(other, keys)


if __name__ == "__main__":
    unittest.main()

"""The OCI runtime wrapper's own rules, with fake runtimes (shell scripts that record how they were
started): arguments after -- pass through untouched, the command line is read or refused (fail
closed), no exec loop, the runtime is found before the bundle changes, the runtime log line is
JSON, no descriptor leaks into the runtime, and bad option values are usage errors."""

import json
import os
import shutil
import stat
import subprocess

import cdihook as h

KIND = "vendor.example/dev"
DEVICE = KIND + "=null"

# Records its argv (one per line), its environment and its open descriptors, then exits 0.
FAKE_RUNTIME = """#!/bin/sh
out="%(out)s"
printf '%%s\\n' "$@" > "$out.args"
env > "$out.env"
for fd in /proc/$$/fd/*; do printf '%%s -> %%s\\n' "${fd##*/}" "$(readlink "$fd")"; done > "$out.fds"
exit 0
"""


class Wrapper(h.TestCase):
    def setUp(self):
        super().setUp()
        self.write_spec("s.yaml", h.basic_spec(self.tmp))
        self.config = h.oci_config(annotations={"cdi.k8s.io/test": DEVICE})
        self.bundle = self.make_bundle(self.config)
        self.config_path = os.path.join(self.bundle, "config.json")
        self.bin = h.make_dir(self.path("bin"))
        self.out = self.path("runtime-out")

    def fake_runtime(self, name="fake-runtime", directory=None):
        path = os.path.join(directory or self.bin, name)
        h.write_file(path, FAKE_RUNTIME % {"out": self.out}, 0o755)
        return path

    def recorded_args(self):
        with open(self.out + ".args") as f:
            return f.read().splitlines()

    def started(self):
        return os.path.exists(self.out + ".args")

    def wrapper(self, runtime, runtime_args, extra=(), env=None):
        args = ["runtime", "--runtime", runtime, "--spec-dir", self.spec_dir, "--cache-dir", "none",
                "--log-file", self.log_file, "--wait", "0"] + list(extra) + ["--"] + list(runtime_args)
        return h.run(args, env=env, timeout=20)

    def shim(self, runtime_args, env=None, conf=None, name="cdi-hook-runtime"):
        link = os.path.join(self.tmp, name)
        if not os.path.exists(link):
            os.symlink(h.binary(), link)
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CDI_HOOK_RUNTIME_CONFIG": conf or "none",
                "CDI_HOOK_SPEC_DIRS": self.spec_dir, "CDI_HOOK_CACHE_DIR": "none", "CDI_HOOK_WAIT": "0"}
        full.update(env or {})
        p = subprocess.run([link] + list(runtime_args), capture_output=True, env=full, timeout=20)
        return h.Run([link] + list(runtime_args), p.returncode, p.stdout, p.stderr.decode(errors="replace"), 0, 0)

    def assertInjected(self):
        self.assertIsNotNone(h.linux_device(h.load_json(self.config_path), "/dev/cdi-null"))

    def assertBundleUntouched(self, before, st):
        self.assertFileUntouched(self.config_path, before, st)
        self.assertOnlyConfig(self.bundle)

    def snapshot(self):
        return h.read_bytes(self.config_path), os.stat(self.config_path)

    # --- arguments after -- ---
    def test_readme_example_passes_everything_after_dashes(self):
        runtime = self.fake_runtime()
        r = h.run(["runtime", "--runtime", runtime, "--spec-dir", self.spec_dir, "--cache-dir", "none", "--",
                   "run", "--bundle", self.bundle, "ID"])
        self.assertOk(r)
        self.assertEqual(self.recorded_args(), ["run", "--bundle", self.bundle, "ID"])
        self.assertInjected()

    def test_each_repeatable_option_directly_before_dashes(self):
        runtime = self.fake_runtime()
        rest = ["--root", "/r", "create", "--bundle", self.bundle, "--pid-file", "p", "--", "x", "--spec-dir", "y"]
        for option, value in (("--spec-dir", self.spec_dir), ("--runtime-value-flag", "platform"),
                              ("--runtime-bool-flag", "x-debug")):
            with self.subTest(option):
                os.remove(self.out + ".args") if self.started() else None
                r = h.run(["runtime", "--runtime", runtime, "--cache-dir", "none", "--spec-dir", self.spec_dir,
                           option, value, "--"] + rest)
                self.assertOk(r)
                self.assertEqual(self.recorded_args(), rest)

    def test_runtime_without_dashes_is_a_usage_error(self):
        self.assertUsage(h.run(["runtime", "--runtime", self.fake_runtime()]), "expected -- and the runtime")

    # --- unknown global flags: read, or refused ---
    def test_unknown_global_flag_fails_closed(self):
        runtime = self.fake_runtime("my-runtime")
        before, st = self.snapshot()
        for args in (["--platform", "ptrace", "create", "--bundle", self.bundle, "id"],
                     ["--debug-log", "/x/", "create", "--bundle", self.bundle, "id"]):
            with self.subTest(args[0]):
                r = self.wrapper(runtime, args)
                self.assertFailure(r, 'cannot tell whether the runtime\'s command is "create"',
                                   '"%s" is not a global flag of "my-runtime"' % args[0], "runtime-value-flag")
                self.assertFalse(self.started(), "the runtime must not start")
                self.assertBundleUntouched(before, st)

    def test_unknown_flag_is_harmless_when_nothing_is_requested(self):
        runtime = self.fake_runtime("my-runtime")
        h.write_file(self.config_path, json.dumps(h.oci_config()))
        before = h.read_bytes(self.config_path)
        args = ["--platform", "ptrace", "create", "--bundle", self.bundle, "id"]
        self.assertOk(self.wrapper(runtime, args))
        self.assertEqual(self.recorded_args(), args)
        self.assertEqual(h.read_bytes(self.config_path), before)

    def test_runsc_flags_are_known(self):
        runtime = self.fake_runtime("runsc")
        args = ["--platform", "ptrace", "--debug-log", "/x/", "--debug", "create", "--bundle", self.bundle, "id"]
        self.assertOk(self.wrapper(runtime, args))
        self.assertEqual(self.recorded_args(), args)
        self.assertInjected()

    def test_configured_flags_make_the_command_readable(self):
        link_runtime = self.fake_runtime("my-runtime")
        args = ["--platform", "ptrace", "create", "--bundle", self.bundle, "id"]
        conf = h.write_file(self.path("runtime.conf"), "runtime = %s\nruntime-value-flag = platform\n" % link_runtime)
        r = self.shim(args, conf=conf)
        self.assertOk(r)
        self.assertEqual(self.recorded_args(), args)
        self.assertInjected()

    # --- no exec loop ---
    def assertRefusesLoop(self, runtime, needle, found_before_inject):
        """One refusal, at once. Found by inode, the loop is refused before anything changes; through a
        script or a copy only the second wrapper can tell, after the first has injected and exec'd."""
        before, st = self.snapshot()
        r = self.shim(["create", "--bundle", self.bundle, "id"], env={"CDI_HOOK_RUNTIME": runtime})
        self.assertFailure(r, needle)
        if found_before_inject:
            self.assertBundleUntouched(before, st)

    def test_loop_through_a_wrapper_script(self):
        link = os.path.join(self.tmp, "cdi-hook-runtime")
        os.symlink(h.binary(), link)
        script = h.write_file(os.path.join(self.bin, "runc-wrapper"), '#!/bin/sh\nexec "%s" "$@"\n' % link, 0o755)
        self.assertRefusesLoop(script, "leads back to cdi-hook (CDI_HOOK_WRAPPED is set", False)

    def test_loop_through_a_hard_link(self):
        linked = os.path.join(self.bin, "runc")
        try:
            os.link(h.binary(), linked)
        except OSError:  # the temp dir is on another file system: link beside the binary
            linked = h.binary() + ".hardlink-test-" + os.path.basename(self.tmp)
            os.link(h.binary(), linked)
            self.addCleanup(os.remove, linked)
        self.assertRefusesLoop(linked, "is cdi-hook itself", True)

    def test_loop_through_a_copy(self):
        # A copy under the wrapper's name: run as the runtime, it is the wrapper again.
        copy = os.path.join(self.bin, "cdi-hook-runtime")
        shutil.copy2(h.binary(), copy)
        self.assertRefusesLoop(copy, "leads back to cdi-hook (CDI_HOOK_WRAPPED is set", False)

    def test_the_runtime_gets_the_marker(self):
        runtime = self.fake_runtime()
        self.assertOk(self.wrapper(runtime, ["state", "id"]))
        with open(self.out + ".env") as f:
            self.assertIn("CDI_HOOK_WRAPPED=1", f.read().splitlines())

    # --- the bundle changes if and only if the runtime starts ---
    def test_missing_runtime_leaves_the_bundle(self):
        before, st = self.snapshot()
        r = self.wrapper(self.path("bin", "no-such-runtime"), ["create", "--bundle", self.bundle, "id"])
        self.assertFailure(r, "no-such-runtime", "is not an executable file")
        self.assertBundleUntouched(before, st)
        r = self.shim(["create", "--bundle", self.bundle, "id"], env={"CDI_HOOK_RUNTIME": "no-such-runtime-x"})
        self.assertFailure(r, '"no-such-runtime-x" not found in PATH')
        self.assertBundleUntouched(before, st)

    def test_runtime_that_cannot_be_executed_leaves_the_bundle(self):
        # Executable bits, but neither an ELF file nor a script: execve fails with ENOEXEC after injection.
        bad = h.write_file(os.path.join(self.bin, "bad-runtime"), b"\x00\x01garbage", 0o755)
        before = h.read_bytes(self.config_path)
        r = self.wrapper(bad, ["create", "--bundle", self.bundle, "id"])
        self.assertFailure(r, "exec", "bad-runtime", "Exec format error")
        self.assertEqual(h.read_bytes(self.config_path), before)
        self.assertOnlyConfig(self.bundle)

    # --- what the runtime and the engine see ---
    def test_runtime_log_line_is_json_with_control_characters(self):
        # A bundle path with a control character, and a config that is not JSON: the message names the path.
        bundle = self.make_bundle(h.oci_config(), name="bundle\x01ctl")
        h.write_file(os.path.join(bundle, "config.json"), '{"ociVersion": ')
        runtime = self.fake_runtime()
        log = self.path("runtime-log.json")
        r = self.wrapper(runtime, ["--log", log, "--log-format", "json", "create", "--bundle", bundle, "id"])
        self.assertEqual(r.rc, 1, r)
        self.assertFalse(self.started())
        with open(log, "rb") as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1, lines)
        entry = json.loads(lines[0])
        self.assertEqual(entry["level"], "error")
        self.assertIn("bundle", entry["msg"])
        self.assertIn("ctl", entry["msg"])
        self.assertEqual(entry["msg"], r.stderr_lines[0])

    def test_log_file_is_not_inherited_by_the_runtime(self):
        runtime = self.fake_runtime()
        self.assertOk(self.wrapper(runtime, ["create", "--bundle", self.bundle, "id"], extra=["--log-level", "debug"]))
        self.assertIn("injected", self.log_text())  # the log file was open before the exec
        with open(self.out + ".fds") as f:
            fds = f.read()
        self.assertNotIn(self.log_file, fds)
        self.assertInjected()

    def test_every_log_line_names_the_container(self):
        runtime = self.fake_runtime()
        self.assertOk(self.wrapper(runtime, ["create", "--bundle", self.bundle, "ctr-9"], extra=["--log-level", "debug"]))
        lines = [l for l in self.log_text().splitlines() if "cdi-hook[" in l]
        self.assertGreater(len(lines), 1)
        for line in lines:
            self.assertIn('container "ctr-9", bundle "%s": ' % self.bundle, line)

    # --- option values ---
    def test_bad_wait_values_are_usage_errors_wherever_they_come_from(self):
        before, st = self.snapshot()
        for value in ("-5", "nan", "inf", "1e18", "1e300", "soon"):
            with self.subTest(value, source="env"):
                r = self.shim(["create", "--bundle", self.bundle, "id"], env={"CDI_HOOK_WAIT": value})
                self.assertUsage(r, 'cdi-hook: CDI_HOOK_WAIT: expected seconds between 0 and 3600, got "%s"' % value)
            with self.subTest(value, source="file"):
                conf = h.write_file(self.path("runtime.conf"), "# wait\nruntime = %s\nwait = %s\n"
                                    % (self.fake_runtime(), value))
                r = self.shim(["create", "--bundle", self.bundle, "id"], conf=conf, env={"CDI_HOOK_WAIT": ""})
                self.assertUsage(r, 'cdi-hook: %s:3: wait: expected seconds between 0 and 3600, got "%s"'
                                 % (conf, value))
            with self.subTest(value, source="flag"):
                r = self.wrapper(self.fake_runtime(), ["create", "--bundle", self.bundle, "id"],
                                 extra=["--wait", value])
                self.assertUsage(r, '--wait: expected seconds between 0 and 3600, got "%s"' % value)
        self.assertFalse(self.started())
        self.assertBundleUntouched(before, st)


if __name__ == "__main__":
    import unittest
    unittest.main()

"""`cdi-hook monitor`: real file changes in real spec dirs (inotify), the lines it prints as they happen,
text and JSON, and a clean exit 0 on Ctrl-C (SIGINT) and SIGTERM."""

import json
import os
import queue
import re
import signal
import subprocess
import threading

import cdihook as h

KIND = "monitor.e2e.example/dev"


def spec_yaml(*names, env="A=1"):
    return h.to_yaml(h.spec(KIND, {n: {"env": [env]} for n in names}, version="0.6.0"))


class Monitor:
    """A running `cdi-hook monitor` whose stdout lines are read as they come."""

    def __init__(self, test, args):
        self.test = test
        self.p = subprocess.Popen([h.binary(), "monitor"] + args, cwd=test.tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        test.addCleanup(self._kill)

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()

    def next_lines(self, n, timeout=10):
        """The next n lines, without the time a text line starts with."""
        out = []
        for _ in range(n):
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                self.test.fail("monitor printed %r, then nothing for %d s" % (out, timeout))
            if line is None:
                self.test.fail("monitor ended after %r: %s" % (out, self.p.stderr.read()))
            out.append(re.sub(r"^\d\d:\d\d:\d\d ", "", line))
        return out

    def stop(self, sig=signal.SIGINT):
        self.p.send_signal(sig)
        rc = self.p.wait(timeout=10)
        rest = []
        while True:
            line = self.lines.get(timeout=10)
            if line is None:
                break
            rest.append(line)
        return rc, rest, self.p.stderr.read()


class MonitorTest(h.TestCase):
    maxDiff = None

    def setUp(self):
        super().setUp()
        self.a = h.make_dir(self.path("a"))
        self.b = h.make_dir(self.path("b"))

    def put(self, relpath, text, mode=0o644):
        """A new file, complete when it appears: written under a name that is not a spec's, then renamed."""
        path = self.path(relpath)
        with open(path + ".part", "w") as f:
            f.write(text)
        os.chmod(path + ".part", mode)
        os.rename(path + ".part", path)

    def rewrite(self, relpath, text):
        """Rewrites a file in place with one write(2) and no truncation, so that the monitor, woken by the
        write, never reads a half-written file however slowly the test runs."""
        path = self.path(relpath)
        data = text.encode()
        data += b"\n" * (os.path.getsize(path) - len(data))  # blank lines: nothing of the old text is left
        fd = os.open(path, os.O_WRONLY)
        try:
            self.assertEqual(os.write(fd, data), len(data))
        finally:
            os.close(fd)

    def test_text_lines_as_the_dirs_change(self):
        m = Monitor(self, ["--spec-dir", "a", "--spec-dir", "b"])
        self.assertEqual(m.next_lines(1), ["watching a, b: 0 spec files, 0 devices; Ctrl-C stops"])

        self.put("a/x.yaml", spec_yaml("0", "1"))
        self.assertEqual(m.next_lines(3), [
            "spec added: a/x.yaml (%s, 2 devices)" % KIND,
            "device appeared: %s=0 (a/x.yaml)" % KIND,
            "device appeared: %s=1 (a/x.yaml)" % KIND,
        ])

        self.rewrite("a/x.yaml", spec_yaml("0", "1", env="NOEQUALS"))
        self.assertEqual(m.next_lines(5), [
            "spec invalid: a/x.yaml",
            '  a/x.yaml:7:11: devices[0].containerEdits.env[0]: invalid environment variable "NOEQUALS": expected '
            'KEY=VALUE',
            '  a/x.yaml:11:11: devices[1].containerEdits.env[0]: invalid environment variable "NOEQUALS": expected '
            'KEY=VALUE',
            "device disappeared: %s=0 (was in a/x.yaml)" % KIND,
            "device disappeared: %s=1 (was in a/x.yaml)" % KIND,
        ])

        self.rewrite("a/x.yaml", spec_yaml("0"))
        self.assertEqual(m.next_lines(2), [
            "spec changed: a/x.yaml (%s, 1 device)" % KIND,
            "device appeared: %s=0 (a/x.yaml)" % KIND,
        ])

        self.put("b/y.yaml", spec_yaml("0"))  # a later dir: it wins
        self.assertEqual(m.next_lines(2), [
            "spec added: b/y.yaml (%s, 1 device)" % KIND,
            "device shadowed: %s=0: b/y.yaml now shadows a/x.yaml" % KIND,
        ])
        os.unlink(self.path("b/y.yaml"))
        self.assertEqual(m.next_lines(2), ["spec removed: b/y.yaml", "device ok: %s=0 (a/x.yaml)" % KIND])

        self.put("a/w.yaml", spec_yaml("0"))  # the same dir: a conflict
        added, conflict = m.next_lines(2)
        self.assertEqual(added, "spec added: a/w.yaml (%s, 1 device)" % KIND)
        self.assertRegex(conflict, r"^device conflict: %s=0: a/[wx]\.yaml and a/[wx]\.yaml define it at the same "
                                   r"priority, so it cannot be used$" % re.escape(KIND))

        os.chmod(self.path("a/w.yaml"), 0o666)  # not root's any more
        self.assertEqual(m.next_lines(3), [
            "spec invalid: a/w.yaml",
            "  a/w.yaml: spec file is writable by every user (mode 0666); it is ignored",
            "device ok: %s=0 (a/x.yaml)" % KIND,
        ])

        os.rename(self.path("a/x.yaml"), self.path("a/v.yaml"))
        lines = m.next_lines(3)
        self.assertEqual(sorted(lines), sorted([
            "spec removed: a/x.yaml",
            "spec added: a/v.yaml (%s, 1 device)" % KIND,
            "device ok: %s=0 (a/v.yaml)" % KIND,
        ]))

        rc, rest, stderr = m.stop(signal.SIGINT)
        self.assertEqual((rc, rest, stderr), (0, [], ""))

    def test_json_one_object_a_line(self):
        self.put("a/x.yaml", spec_yaml("0"))
        m = Monitor(self, ["--spec-dir", "a", "--output", "json"])
        start = json.loads(m.next_lines(1)[0])
        self.assertEqual({k: start[k] for k in ("event", "specDirs", "specs", "invalid", "devices", "inotify")},
                         {"event": "watching", "specDirs": ["a"], "specs": 1, "invalid": 0, "devices": 1,
                          "inotify": True})
        self.assertRegex(start["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        self.put("a/x.yaml", "cdiVersion: \"0.6.0\"\nkind: %s\ndevices:\n  - name: \"0\"\n    containerEdit: {}\n"
                 % KIND)
        invalid, gone = [json.loads(l) for l in m.next_lines(2)]
        self.assertEqual(invalid["event"], "spec-invalid")
        self.assertEqual(invalid["path"], "a/x.yaml")
        self.assertEqual(invalid["kind"], KIND)
        error = invalid["errors"][0]
        self.assertEqual((error["file"], error["line"], error["column"]), ("a/x.yaml", 5, 5))
        self.assertIn('unknown field "containerEdit"', error["message"])
        del gone["time"]
        self.assertEqual(gone, {"event": "device-disappeared", "device": KIND + "=0", "spec": "a/x.yaml"})

        self.rewrite("a/x.yaml", spec_yaml("0"))
        changed, back = [json.loads(l) for l in m.next_lines(2)]
        del changed["time"], back["time"]
        self.assertEqual(changed, {"event": "spec-changed", "path": "a/x.yaml", "kind": KIND, "devices": 1})
        self.assertEqual(back, {"event": "device-appeared", "device": KIND + "=0", "spec": "a/x.yaml"})

        self.put("b/y.yaml", spec_yaml("0"))
        m2 = Monitor(self, ["--spec-dir", "a", "--spec-dir", "b", "-o", "json"])
        self.assertEqual(json.loads(m2.next_lines(1)[0])["devices"], 1)
        os.unlink(self.path("b/y.yaml"))
        removed, ok = [json.loads(l) for l in m2.next_lines(2)]
        self.assertEqual((removed["event"], removed["path"]), ("spec-removed", "b/y.yaml"))
        self.assertEqual((ok["event"], ok["spec"]), ("device-ok", "a/x.yaml"))

        rc, rest, stderr = m2.stop(signal.SIGTERM)
        self.assertEqual((rc, rest, stderr), (0, [], ""))

        os.rename(self.path("a/x.yaml"), self.path("a/v.yaml"))
        moved = [json.loads(l) for l in m.next_lines(3)]
        for event in moved:
            del event["time"]
        self.assertEqual(sorted(moved, key=json.dumps), sorted([
            {"event": "spec-removed", "path": "a/x.yaml", "kind": KIND},
            {"event": "spec-added", "path": "a/v.yaml", "kind": KIND, "devices": 1},
            {"event": "device-ok", "device": KIND + "=0", "spec": "a/v.yaml"},
        ], key=json.dumps))

        os.chmod(self.path("a/v.yaml"), 0o646)  # every user may write it: ignored
        ignored, gone = [json.loads(l) for l in m.next_lines(2)]
        self.assertEqual((ignored["event"], ignored["path"]), ("spec-invalid", "a/v.yaml"))
        self.assertNotIn("kind", ignored)  # a file that is not root's is not read
        self.assertEqual([(e["file"], e["message"]) for e in ignored["errors"]],
                         [("a/v.yaml", "spec file is writable by every user (mode 0646); it is ignored")])
        del gone["time"]
        self.assertEqual(gone, {"event": "device-disappeared", "device": KIND + "=0", "spec": "a/v.yaml"})

        rc, rest, stderr = m.stop(signal.SIGINT)
        self.assertEqual((rc, rest, stderr), (0, [], ""))

    def test_a_spec_dir_made_later(self):
        m = Monitor(self, ["--spec-dir", "late/cdi"])
        self.assertEqual(m.next_lines(1), ["watching late/cdi: 0 spec files, 0 devices; Ctrl-C stops"])
        h.make_dir(self.path("late"))
        h.make_dir(self.path("late/cdi"))
        self.put("late/cdi/x.yaml", spec_yaml("0"))
        self.assertEqual(m.next_lines(2), ["spec added: late/cdi/x.yaml (%s, 1 device)" % KIND,
                                           "device appeared: %s=0 (late/cdi/x.yaml)" % KIND])
        rc, rest, stderr = m.stop()
        self.assertEqual((rc, rest, stderr), (0, [], ""))

    def test_invalid_spec_at_start_is_counted(self):
        self.put("a/x.yaml", "kind: [\n")
        m = Monitor(self, ["--spec-dir", "a"])
        self.assertEqual(m.next_lines(1), ["watching a: 1 spec file (1 invalid: cdi-hook validate says why), "
                                           "0 devices; Ctrl-C stops"])
        rc, _, stderr = m.stop()
        self.assertEqual((rc, stderr), (0, ""))

    def test_listed_in_help_and_readme(self):
        top = h.run(["--help"])
        self.assertEqual(top.rc, 0, top)
        self.assertRegex(top.stdout.decode(), r"\n  monitor +Watch the spec dirs and print each change as it happens")
        own = h.run(["monitor", "--help"])
        self.assertEqual(own.rc, 0, own)
        for option in ("--spec-dir", "--allow-insecure-specs", "--log-file", "--log-level", "-o,--output"):
            self.assertIn(option, own.stdout.decode())
        with open(os.path.join(h.REPO_ROOT, "README.md")) as f:
            readme = f.read()
        self.assertIn("| `cdi-hook monitor`", readme)
        self.assertIn("## Watching the spec dirs", readme)

    def test_bad_output_format_is_a_usage_error(self):
        r = h.run(["monitor", "--spec-dir", "a", "--output", "yaml"], cwd=self.tmp)
        self.assertEqual((r.rc, r.stdout), (2, b""), r)
        self.assertEqual(r.stderr_lines[0][:len("cdi-hook: --output: ")], "cdi-hook: --output: ")


if __name__ == "__main__":
    h.unittest.main()

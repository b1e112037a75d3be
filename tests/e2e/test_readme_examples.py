"""The README's worked examples run as printed.

A `console` block right after the line `<!-- checked: tests/e2e/test_readme_examples.py -->` is run
command for command (`$ ` lines; the lines up to the next one are the output shown, stdout and stderr
together) in a copy of the repository's `examples/` and `cdi-specs/`, with `cdi-hook` in PATH being the
binary under test, and each command's output must be the one shown. It runs in a private mount namespace
with a tmpfs on /run, so the default index cache (/run/cdi-hook) is the test's own. Blocks that start
containers carry the marker of tests/e2e/test_readme_runc.py instead (label `container`).
"""

import os
import re
import shutil
import subprocess
import unittest

import cdihook as h

README = os.path.join(h.REPO_ROOT, "README.md")
MARKER = "<!-- checked: tests/e2e/test_readme_examples.py -->"


def checked_blocks(text, marker=MARKER):
    """[(first line number, [(command, expected output)])] for each console block marked so."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != marker:
            continue
        if i + 1 >= len(lines) or lines[i + 1].strip() != "```console":
            raise AssertionError("README.md:%d: the marker must be followed by a ```console block" % (i + 1))
        steps = []
        j = i + 2
        while lines[j].strip() != "```":
            if lines[j].startswith("$ "):
                steps.append([lines[j][2:], []])
            elif not steps:
                raise AssertionError("README.md:%d: output before the first command" % (j + 1))
            else:
                steps[-1][1].append(lines[j])
            j += 1
        blocks.append((i + 3, [(cmd, "\n".join(out)) for cmd, out in steps]))
    return blocks


class ReadmeExamplesTest(h.TestCase):
    maxDiff = None
    marker = MARKER

    def setUp(self):
        super().setUp()
        with open(README, encoding="utf-8") as f:
            self.blocks = checked_blocks(f.read(), self.marker)
        bindir = h.make_dir(self.path("bin"))
        os.symlink(h.binary(), os.path.join(bindir, "cdi-hook"))
        self.env = dict(os.environ, PATH=bindir + ":/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL="C.UTF-8")

    def run_block(self, steps):
        """Runs the commands in one shell, in a fresh copy of examples/; returns each one's output."""
        work = self.path("work")
        shutil.rmtree(work, ignore_errors=True)
        for d in ("examples", "cdi-specs"):
            shutil.copytree(os.path.join(h.REPO_ROOT, d), os.path.join(work, d))
        script = ["cd %s" % work]
        for n, (cmd, _) in enumerate(steps):
            script.append("echo '@@@ %d'" % n)
            script.append("%s 2>&1" % cmd)
        inner = "mount -t tmpfs tmpfs /run && bash -c \"$0\""
        p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "\n".join(script)],
                           capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(p.stderr, "", p)
        parts = re.split(r"^@@@ (\d+)\n", p.stdout, flags=re.M)
        self.assertEqual(parts[0], "", p.stdout)
        return {int(parts[k]): parts[k + 1] for k in range(1, len(parts), 2)}

    def test_readme_has_checked_examples(self):
        self.assertGreaterEqual(len(self.blocks), 1, "no %s block in README.md" % self.marker)

    def test_each_command_prints_what_the_readme_shows(self):
        for line, steps in self.blocks:
            outputs = self.run_block(steps)
            for n, (cmd, expected) in enumerate(steps):
                with self.subTest(readme_line=line, command=cmd):
                    self.assertEqual(outputs.get(n, "<not run>").rstrip("\n"), expected)


if __name__ == "__main__":
    unittest.main()

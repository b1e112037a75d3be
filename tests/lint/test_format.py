"""Every tracked C++ file is formatted as the repository's .clang-format says.

Runs Debian's clang-format (scripts/install-deps.sh installs it) with --dry-run --Werror; the failure
lists the files and the first lines clang-format would change. Fix with `clang-format -i FILE`.
"""
import pathlib
import shutil
import subprocess
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cxx_files():
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", "*.cc", "*.h"], check=True,
                         capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p]


class FormatTest(unittest.TestCase):
    def test_every_cxx_file_is_clang_formatted(self):
        clang_format = shutil.which("clang-format")
        self.assertIsNotNone(clang_format, "clang-format is missing (scripts/install-deps.sh installs it)")
        files = cxx_files()
        self.assertGreater(len(files), 50, "git ls-files listed too little: not a checkout?")
        p = subprocess.run([clang_format, "--dry-run", "--Werror", *files], cwd=ROOT, capture_output=True,
                           text=True)
        bad = sorted({line.split(":", 1)[0] for line in p.stderr.splitlines() if "error: code should be" in line})
        self.assertEqual(p.returncode == 0, not bad, p.stderr[-3000:])
        self.assertEqual(bad, [], "not formatted (clang-format -i FILE):\n" + p.stderr[:3000])


if __name__ == "__main__":
    unittest.main()

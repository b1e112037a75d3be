"""The repository stands alone: no tracked file points at notes or tools outside it.

A clone has nothing beside it, so a path into the workplace's shared folder is a dead reference; a fact
that a file needs is said where it is used, and material a test needs is copied into tests/ with its
source.
"""
import pathlib
import re
import subprocess
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Built from parts, so that this file does not match itself.
OUTSIDE = re.compile(re.escape("..") + r"/shared\b|/work" + r"/shared\b")


def tracked_files():
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def outside_references(files):
    """(path, line number, line) for every line that names a path outside the repository."""
    hits = []
    for f in files:
        if f.is_symlink() or not f.is_file():
            continue
        text = f.read_bytes().decode("utf-8", errors="replace")
        for no, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append((f.relative_to(ROOT).as_posix(), no, line.strip()))
    return hits


class StandaloneTest(unittest.TestCase):
    def test_the_pattern_finds_both_forms(self):
        self.assertRegex("see " + ".." + "/shared/notes/x.md", OUTSIDE)
        self.assertRegex("/work" + "/shared/corpus", OUTSIDE)
        self.assertNotRegex("std::shared_ptr and ../sharedlib", OUTSIDE)

    def test_no_tracked_file_points_outside_the_repository(self):
        files = tracked_files()
        self.assertGreater(len(files), 50, "git ls-files listed too little: not a checkout?")
        hits = outside_references(files)
        self.assertEqual(hits, [], "\n".join(f"{p}:{n}: {line}" for p, n, line in hits))


if __name__ == "__main__":
    unittest.main()

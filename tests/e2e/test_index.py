"""The kind index (--cache-dir) never changes an answer: specs created, rewritten in place or removed
after the index and the dir listing were recorded are seen exactly as a full scan would see them."""

import os
import time

import cdihook as h


class KindIndexTest(h.TestCase):
    def spec_of(self, kind, name):
        return h.spec(kind, {name: {"env": ["FROM=%s" % kind]}})

    def inject(self, device):
        cfg = h.write_file(self.path("config.json"), h.oci_config())
        return super().inject(cfg, [device])

    def warm(self):
        """Runs until the index holds the dir listing and every file (older than a second)."""
        time.sleep(1.1)
        for _ in range(2):
            self.assertEqual(self.inject("a.example/x=one").rc, 0)
        index = [f for f in os.listdir(self.cache_dir) if f.endswith(".idx")]
        self.assertEqual(len(index), 1)
        with open(os.path.join(self.cache_dir, index[0])) as f:
            text = f.read()
        self.assertIn("listing ", text)
        self.assertNotIn("listing -", text)

    def setUp(self):
        super().setUp()
        self.write_spec("a.yaml", self.spec_of("a.example/x", "one"))
        self.write_spec("b.yaml", self.spec_of("b.example/x", "two"))

    def test_a_file_created_later_is_found(self):
        self.warm()
        self.write_spec("c.yaml", self.spec_of("c.example/x", "three"))
        r = self.inject("c.example/x=three")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(h.env_map(r.json())["FROM"], "c.example/x")

    def test_a_file_rewritten_in_place_changes_kind(self):
        self.warm()
        path = os.path.join(self.spec_dir, "b.yaml")
        ino = os.stat(path).st_ino
        with open(path, "w") as f:  # same inode: only the file's own stat shows the change
            f.write(h.to_yaml(self.spec_of("c.example/x", "moved")))
        self.assertEqual(os.stat(path).st_ino, ino)
        r = self.inject("c.example/x=moved")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(h.env_map(r.json())["FROM"], "c.example/x")
        self.assertEqual(self.inject("b.example/x=two").rc, 1)

    def test_a_removed_file_is_gone(self):
        self.warm()
        os.unlink(os.path.join(self.spec_dir, "b.yaml"))
        r = self.inject("b.example/x=two")
        self.assertFailure(r, "no spec of kind \"b.example/x\"")

    def test_a_file_renamed_over_another(self):
        self.warm()
        tmp = self.write_spec(".b.tmp", self.spec_of("b.example/x", "renamed"))
        os.rename(tmp, os.path.join(self.spec_dir, "b.yaml"))
        r = self.inject("b.example/x=renamed")
        self.assertEqual(r.rc, 0, r)


if __name__ == "__main__":
    import unittest
    unittest.main()

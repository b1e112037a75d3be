"""File and bundle names holding terminal escapes never reach a terminal or a log raw: every command
shows them escaped (\\x1b), in the same form wherever a path stands."""

import os

import cdihook as h

KIND = "vendor.example/dev"
ESC_NAME = "evil\x1b[31m.yaml"             # colours the terminal red
BEL_NAME = "bad\x1b]0;pwned\x07.yaml"     # sets the terminal's title
RAW = (b"\x1b", b"\x07")


def spec_text(name, tag):
    return 'cdiVersion: "0.5.0"\nkind: %s\ndevices:\n- name: %s\n  containerEdits:\n    env: [FROM=%s]\n' % (
        KIND, name, tag)


class HostileNamesTest(h.TestCase):
    def setUp(self):
        super().setUp()
        self.good = self.write_spec(ESC_NAME, spec_text("ok", "good"))
        self.bad = self.write_spec(BEL_NAME, spec_text("-bad", "bad"))  # invalid device name
        self.shown_good = self.good.replace("\x1b", "\\x1b")
        self.shown_bad = self.bad.replace("\x1b", "\\x1b").replace("\x07", "\\x07")

    def assertNoRawEscapes(self, r):
        for raw in RAW:
            self.assertNotIn(raw, r.stdout, r)
            self.assertNotIn(raw, r.stderr.encode(), r)
            self.assertNotIn(raw, h.to_bytes(self.log_text()))

    def test_validate(self):
        r = h.run(["validate", self.spec_dir])
        self.assertEqual(r.rc, 1, r)
        self.assertNoRawEscapes(r)
        out = r.stdout.decode()
        self.assertIn('"%s": valid (kind %s' % (self.shown_good, KIND), out)
        self.assertIn('"%s":4:9: devices[0].name: invalid device name' % self.shown_bad, out)

    def test_list(self):
        r = h.run(["list", "--spec-dir", self.spec_dir])
        self.assertEqual(r.rc, 0, r)
        self.assertNoRawEscapes(r)
        out = r.stdout.decode()
        self.assertIn('%s=ok  "%s"' % (KIND, self.shown_good), out)
        self.assertIn('  "%s":4:9: devices[0].name' % self.shown_bad, out)
        # JSON output escapes on its own (\u001b) and stays parseable.
        r = h.run(["list", "--spec-dir", self.spec_dir, "--output", "json"])
        self.assertNoRawEscapes(r)
        self.assertEqual(r.json()["specs"][0]["path"], self.good)

    def test_hook_error_and_log(self):
        r = self.hook(h.oci_config({"cdi.k8s.io/e2e": KIND + "=bad"}), extra=["--log-level", "debug"])
        self.assertFailure(r, '"%s":4:9: devices[0].name' % self.shown_bad)
        self.assertNoRawEscapes(r)
        self.assertIn(self.shown_bad, self.log_text())

    def test_bundle_path(self):
        bundle = self.make_bundle(h.oci_config({"cdi.k8s.io/e2e": KIND + "=ok"}), name="bundle\x1b[2J")
        h.write_file(os.path.join(bundle, "config.json"), "{not json")
        r = self.hook(h.oci_state(bundle))
        self.assertFailure(r, '"%s/config.json":1:2: ' % bundle.replace("\x1b", "\\x1b"))
        self.assertNoRawEscapes(r)

    def test_explain(self):
        r = self.inject(h.write_file(self.path("c.json"), h.oci_config()), devices=[KIND + "=ok"],
                        extra=["--explain"])
        self.assertEqual(r.rc, 0, r)
        self.assertNoRawEscapes(r)
        self.assertIn('device %s=ok of "%s"' % (KIND, self.shown_good), r.stdout.decode())

"""The layers of src/ and the rules between them, checked on every #include.

    base -> spec (spec/codec belongs to spec) -> registry -> edits -> guest -> inject -> app -> cli | nri

A file may include headers of its own layer and of the layers below it, never above; the two front ends
(cli, nri) never include each other. The library (every layer below the front ends) never writes to
stdout or stderr: it returns errors and logs through the Logger its caller hands in.
"""
import pathlib
import re
import unittest

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
ORDER = ["base", "spec", "registry", "edits", "guest", "inject", "app", "cli", "nri"]
FRONT_ENDS = {"cli", "nri"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
# Direct writes to the process's standard streams.
PRINTS = re.compile(r"\b(std::cout|std::cerr|std::clog|printf\s*\(|puts\s*\(|fputs\s*\([^;]*\bstd(out|err)\b|"
                    r"fprintf\s*\(\s*std(out|err)|fwrite\s*\([^;]*\bstd(out|err)\b|"
                    r"write\s*\(\s*(1|2|STDOUT_FILENO|STDERR_FILENO)\s*,)")


def layer_of(path):
    """The layer of a path relative to src/ ("spec/codec/tape.h" -> "spec"), or None."""
    top = pathlib.PurePosixPath(path).parts[0]
    return top if top in ORDER else None


def sources():
    return sorted(p for p in SRC.rglob("*") if p.suffix in (".h", ".cc", ".in"))


def violations(files):
    """(file, included, why) for every include that points up or across front ends."""
    out = []
    for f in files:
        rel = f.relative_to(SRC).as_posix()
        own = layer_of(rel)
        for inc in INCLUDE.findall(f.read_text()):
            target = layer_of(inc)
            if target is None:
                if not inc.startswith("support/") or not rel.endswith("_test.cc"):
                    out.append((rel, inc, "not in a layer folder"))
                continue
            if own in FRONT_ENDS and target in FRONT_ENDS and own != target:
                out.append((rel, inc, "one front end includes another"))
            elif ORDER.index(target) > ORDER.index(own):
                out.append((rel, inc, f"{own} includes {target}, a layer above it"))
    return out


class Layering(unittest.TestCase):
    def test_every_source_is_in_a_layer_folder(self):
        stray = [p.relative_to(SRC).as_posix() for p in sources() if layer_of(p.relative_to(SRC).as_posix()) is None]
        self.assertEqual(stray, [])

    def test_includes_point_only_down(self):
        self.assertEqual(violations(sources()), [])

    def test_the_checker_sees_an_upward_include(self):
        # The check itself must be able to fail: a spec file including a registry header is caught.
        tmp = SRC / "spec" / "layering_probe_tmp.h"
        try:
            tmp.write_text('#include "registry/registry.h"\n#include "base/error.h"\n')
            found = violations([tmp])
        finally:
            tmp.unlink()
        self.assertEqual(found, [("spec/layering_probe_tmp.h", "registry/registry.h", "spec includes registry, a layer above it")])

    def test_front_ends_do_not_include_each_other(self):
        tmp = SRC / "cli" / "layering_probe_tmp.cc"
        try:
            tmp.write_text('#include "nri/plugin.h"\n')
            found = violations([tmp])
        finally:
            tmp.unlink()
        self.assertEqual(found, [("cli/layering_probe_tmp.cc", "nri/plugin.h", "one front end includes another")])

    def test_the_library_never_prints(self):
        library = [p for p in sources() if layer_of(p.relative_to(SRC).as_posix()) not in FRONT_ENDS
                   and not p.name.endswith("_test.cc")]
        offenders = []
        for p in library:
            for n, line in enumerate(p.read_text().splitlines(), 1):
                code = line.split("//", 1)[0]
                if PRINTS.search(code):
                    offenders.append(f"{p.relative_to(SRC)}:{n}: {line.strip()}")
        self.assertEqual(offenders, [])

    def test_the_print_check_can_fail(self):
        self.assertRegex('  std::cerr << "x";', PRINTS)
        self.assertRegex('  fprintf(stderr, "x");', PRINTS)
        self.assertRegex('  ::write(2, buf, n);', PRINTS)
        self.assertNotRegex('  fprintf(file, "x");', PRINTS)


if __name__ == "__main__":
    unittest.main()

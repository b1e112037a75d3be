"""The installed CMake package works for a project outside this build.

Installs the build (CDIHOOK_BUILD_DIR) into a temp prefix, configures and builds tests/consumer against it
with find_package(cdihook), and runs the result on the shipped YAML spec, a JSON spec and a bad spec.
Also checks what the package exports: the library and what linking it needs (libyaml, RapidJSON), not
this build's policy targets (warnings, sanitizers).
"""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUILD = os.environ.get("CDIHOOK_BUILD_DIR", "")
CMAKE = os.environ.get("CMAKE", "cmake")
CXX = os.environ.get("CXX", "")


def run(*args, **kw):
    p = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


class ConsumerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BUILD:
            raise AssertionError("CDIHOOK_BUILD_DIR is not set (run through ctest)")
        cls.tmp = tempfile.mkdtemp(prefix="cdihook-consumer-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.prefix = pathlib.Path(cls.tmp) / "prefix"
        build = pathlib.Path(cls.tmp) / "build"
        run(CMAKE, "--install", BUILD, "--prefix", str(cls.prefix))
        configure = [CMAKE, "-S", str(HERE), "-B", str(build), "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={cls.prefix}"]
        if CXX:
            configure.append(f"-DCMAKE_CXX_COMPILER={CXX}")
        run(*configure)
        run(CMAKE, "--build", str(build))
        cls.tool = build / "list_devices"

    def test_reads_the_shipped_yaml_spec(self):
        out = run(str(self.tool), str(ROOT / "cdi-specs" / "example.com-char.yaml")).stdout
        self.assertEqual(out.splitlines()[0], "kind example.com/char")
        self.assertIn("example.com/char=null", out.splitlines())
        self.assertIn("example.com/char=zero", out.splitlines())

    def test_reads_a_json_spec(self):
        spec = pathlib.Path(self.tmp) / "v.json"
        spec.write_text('{"cdiVersion": "0.6.0", "kind": "vendor.com/dev", "devices": '
                        '[{"name": "d0", "containerEdits": {"env": ["A=1"]}}]}')
        out = run(str(self.tool), str(spec)).stdout
        self.assertEqual(out.splitlines(), ["kind vendor.com/dev", "vendor.com/dev=d0"])

    def test_reports_a_bad_spec_with_its_field(self):
        spec = pathlib.Path(self.tmp) / "bad.yaml"
        spec.write_text("cdiVersion: 0.6.0\nkind: vendor.com/dev\ndevices:\n- name: d0\n  bogus: 1\n")
        p = subprocess.run([str(self.tool), str(spec)], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('unknown field "bogus"', p.stderr)
        self.assertIn("devices[0].bogus", p.stderr)

    def test_exports_the_library_and_its_dependencies_only(self):
        targets = next(self.prefix.rglob("cdihookTargets.cmake")).read_text()
        self.assertEqual(re.findall(r"add_library\((\S+)", targets), ["cdihook::cdihook"])
        self.assertNotIn("warnings", targets)
        self.assertNotIn("sanitizers", targets)
        self.assertIn("cdihook::yaml", targets)
        self.assertIn("cdihook::rapidjson", targets)


if __name__ == "__main__":
    unittest.main()

"""What the NRI test modules share: a temp dir per test, plugins that are always stopped, the hook's
binary for comparisons, and small spec and log helpers."""

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import harness as nh


def hook_binary():
    path = os.environ.get("CDI_HOOK_BIN", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("CDI_HOOK_BIN=%r is not an executable file: point it at the built cdi-hook" % path)
    return path


class TestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cdi-nri-")
        os.chmod(self.tmp, 0o755)
        self.spec_dir = os.path.join(self.tmp, "cdi")
        os.mkdir(self.spec_dir, 0o755)
        self.log_path = os.path.join(self.tmp, "plugin.log")
        self.plugins = []

    def tearDown(self):
        for p in self.plugins:
            if isinstance(p, nh.PreRegistered):
                p.kill()
            else:
                p.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config_text(self, extra=""):
        return "spec-dir = %s\nlog-file = %s\nlog-level = debug\n%s" % (self.spec_dir, self.log_path, extra)

    def start(self, **kw):
        p = nh.PreRegistered(**kw)
        self.plugins.append(p)
        return p

    def start_ready(self, extra="", **kw):
        """A pre-registered plugin through RegisterPlugin, Configure and Synchronize."""
        p = self.start(**kw)
        p.runtime.handshake(self.config_text(extra))
        return p

    def start_external(self, socket_path, args=()):
        p = nh.External(socket_path, args, stderr_path=os.path.join(self.tmp, "external.stderr"))
        self.plugins.append(p)
        return p

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for_log(self, needle, timeout=5.0):
        deadline = time.monotonic() + timeout
        while needle not in self.log():
            if time.monotonic() > deadline:
                self.fail("%r not in the plugin's log within %.1f s:\n%s" % (needle, timeout, self.log()))
            time.sleep(0.02)

    def write_spec(self, name, text_or_dict, mode=0o644):
        path = os.path.join(self.spec_dir, name)
        data = text_or_dict if isinstance(text_or_dict, str) else json.dumps(text_or_dict, indent=1)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
        return path

    def hook(self, args, stdin):
        """Runs cdi-hook with args (stdin: bytes or a JSON-able value); returns CompletedProcess."""
        data = stdin if isinstance(stdin, bytes) else json.dumps(stdin).encode()
        return subprocess.run([hook_binary()] + list(args), input=data, capture_output=True, timeout=30)

    def assertEmptyAdjustment(self, reply):
        self.assertEqual(reply.code, nh.OK, reply)
        response = reply.parse(nh.api.CreateContainerResponse)
        self.assertEqual(response.adjust.ByteSize(), 0, response)


def mknod_char(path, major, minor, mode=0o666):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.mknod(path, mode | stat.S_IFCHR, os.makedev(major, minor))
    os.chmod(path, mode)
    return path

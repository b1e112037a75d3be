"""Memory of one hook run over a spec at the 16 MiB size cap: bounded by a small multiple of the input.

Peak memory is the child's ru_maxrss from wait4. A child forked from this Python process starts
with this process's pages counted as its own and exec folds that into ru_maxrss, which is then the
larger of the two: never less than the hook's own peak, so the bound holds at least as well as
measured (this process stays far below the bound: the spec text is written out and dropped first).
"""

import json
import os
import random
import uuid

import cdihook as h

MiB = 1024 * 1024
SPEC_CAP = 16 * MiB


def nvidia_shaped_spec(target_bytes):
    """A spec shaped like nvidia-ctk's output (per GPU: three nodes and a create-symlinks hook), as many
    devices as fit in target_bytes. Returns (text, first device name)."""
    r = random.Random(7)
    parts = ['cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n']
    size, first, i = len(parts[0]), None, 0
    while True:
        name = "GPU-%s" % uuid.UUID(int=r.getrandbits(128))
        first = first or name
        dev = ("- name: %s\n  containerEdits:\n    deviceNodes:\n"
               "    - path: /dev/nvidia%d\n      hostPath: /dev/null\n"
               "    - path: /dev/dri/card%d\n      hostPath: /dev/null\n"
               "    - path: /dev/dri/renderD%d\n      hostPath: /dev/null\n"
               "    hooks:\n    - args:\n      - nvidia-cdi-hook\n      - create-symlinks\n"
               "      - --link\n      - ../card%d::/dev/dri/by-path/pci-0000:%02x:00.0-card\n"
               "      - --link\n      - ../renderD%d::/dev/dri/by-path/pci-0000:%02x:00.0-render\n"
               "      env:\n      - NVIDIA_CTK_DEBUG=false\n      hookName: createContainer\n"
               "      path: /usr/bin/nvidia-cdi-hook\n") % (name, i, i, 128 + i, i, i % 256, 128 + i, i % 256)
        if size + len(dev) > target_bytes:
            return "".join(parts), first
        parts.append(dev)
        size += len(dev)
        i += 1


def dense_spec(target_bytes):
    """A small device, then one with as many short env entries as fit: the most nodes a byte."""
    head = ('cdiVersion: 0.5.0\nkind: dense.example/dev\ndevices:\n- name: small\n  containerEdits:\n'
            '    env: [SMALL=1]\n- name: d\n  containerEdits:\n    env:\n')
    return head + "    - A=1\n" * ((target_bytes - len(head)) // 10)


def over_the_node_limit_spec(target_bytes):
    """Three bytes a node: about 5.6 million nodes, more than a spec may have (2 million)."""
    head = 'cdiVersion: 0.5.0\nkind: dense.example/dev\ndevices:\n- name: d\n  containerEdits:\n    env: ['
    return head + "A=," * ((target_bytes - len(head) - 4) // 3) + "B=]\n"


def max_rss_kib(argv, stdin_path):
    """Runs argv (stdout discarded) and returns (exit code, its ru_maxrss in KiB)."""
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(stdin_path, os.O_RDONLY)
            os.dup2(fd, 0)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss


class SpecMemory(h.TestCase):
    def measure(self, make_spec, device, expect_rc=0):
        path = os.path.join(self.spec_dir, "big.yaml")
        with open(path, "w") as f:
            f.write(make_spec())
        size = os.path.getsize(path)
        self.assertGreater(size, SPEC_CAP - MiB)
        self.assertLessEqual(size, SPEC_CAP)
        config = h.write_file(self.path("config.json"), json.dumps(h.oci_config({"cdi.k8s.io/mem": device})))
        rc, peak_kib = max_rss_kib([h.binary(), "hook", "--spec-dir", self.spec_dir, "--cache-dir", "none",
                                    "--wait", "0"], config)
        self.assertEqual(rc, expect_rc)
        used = peak_kib * 1024
        bound = 8 * size + 16 * MiB
        self.assertLessEqual(used, bound, "peak %.1f MiB for a %.1f MiB spec (bound %.1f MiB)"
                             % (used / MiB, size / MiB, bound / MiB))
        return used, size

    def test_hook_over_a_16_mib_spec_of_the_usual_shape(self):
        first = nvidia_shaped_spec(SPEC_CAP - 512)[1]
        self.measure(lambda: nvidia_shaped_spec(SPEC_CAP - 512)[0], "nvidia.com/gpu=" + first)

    def test_hook_over_a_16_mib_spec_of_short_nodes(self):
        # 1.67 million env entries, within the node limit, read, decoded and validated whole; the
        # device asked for is a small one beside them (what injecting them all costs is the edit
        # plan's and the config's, proportional to the request rather than to the file).
        self.measure(lambda: dense_spec(SPEC_CAP - 512), "dense.example/dev=small")

    def test_hook_over_a_16_mib_spec_with_too_many_nodes(self):
        # Refused ("document too large: more than 2000000 nodes") before it can cost more.
        self.measure(lambda: over_the_node_limit_spec(SPEC_CAP - 512), "dense.example/dev=d", expect_rc=1)

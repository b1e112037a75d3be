"""Spec material for tests: the shipped specs made injectable on any host, and an NVIDIA-shaped
spec generator.

The shipped specs name real host nodes (/dev/nvidia0, /dev/vfio/87) by path only. `localize`
copies one into a test spec dir, adding to each `- path: /dev/...` entry a hostPath under a temp
node root where a fake char node (mknod) with plausible numbers stands in for the real one.
"""

import os
import re

import cdihook as h

# Plausible (major, minor) for the node paths the shipped specs use; dynamic majors are made up.
NODE_NUMBERS = [
    (r"/dev/nvidia(\d+)", lambda m: (195, int(m.group(1)))),
    (r"/dev/nvidiactl", lambda m: (195, 255)),
    (r"/dev/nvidia-modeset", lambda m: (195, 254)),
    (r"/dev/nvidia-uvm", lambda m: (237, 0)),
    (r"/dev/nvidia-uvm-tools", lambda m: (237, 1)),
    (r"/dev/dri/card(\d+)", lambda m: (226, int(m.group(1)))),
    (r"/dev/dri/renderD(\d+)", lambda m: (226, int(m.group(1)))),
    (r"/dev/vfio/vfio", lambda m: (10, 196)),
    (r"/dev/vfio/(\d+)", lambda m: (243, int(m.group(1)))),
]

NODE_LINE = re.compile(r"^(?P<indent>\s*)- path: (?P<path>/dev/\S+)\s*$")


def node_numbers(path):
    for pattern, numbers in NODE_NUMBERS:
        m = re.fullmatch(pattern, path)
        if m:
            return numbers(m)
    raise KeyError("no fake numbers for %s" % path)


def fake_node(node_root, path, mode=0o660):
    """The fake node for container path `path` under node_root (made once); returns its host path."""
    host = node_root + path
    if not os.path.exists(host):
        major, minor = node_numbers(path)
        h.mknod_char(host, major, minor, mode)
    return host


def localize(text, node_root):
    """Spec YAML text with a hostPath to a fake node added to every path-only /dev node entry."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        m = NODE_LINE.match(line)
        if not m:
            continue
        field_indent = m.group("indent") + "  "
        rest = []  # the entry's other fields
        for following in lines[i + 1:]:
            if not following.startswith(field_indent) or following[len(field_indent)] in " -":
                break
            rest.append(following.strip())
        if not any(f.startswith("hostPath:") for f in rest):
            out.append("%shostPath: %s" % (field_indent, fake_node(node_root, m.group("path"))))
    return "\n".join(out) + "\n"


def shipped_specs():
    return sorted(n for n in os.listdir(h.SHIPPED_SPECS) if n.endswith((".yaml", ".json")))


def shipped_devices(text):
    """Device names of a shipped YAML spec (its `- name:` entries under devices)."""
    names = []
    in_devices = False
    for line in text.splitlines():
        if re.match(r"^devices:", line):
            in_devices = True
        elif re.match(r"^[A-Za-z]", line):
            in_devices = False
        m = re.match(r'^\s*- name: "?([^"\s]+)"?\s*$', line)
        if in_devices and m:
            names.append(m.group(1))
    return names


def nvidia_like(node_root, gpus=4, libs=12, version="0.5.0", driver="550.54.15"):
    """A spec shaped like `nvidia-ctk cdi generate` output for `gpus` GPUs (index, UUID, `all`), with
    fake nodes under node_root and hostPaths pointing at them."""
    libdir = "/usr/lib/x86_64-linux-gnu"
    hook = "/usr/bin/nvidia-cdi-hook"

    def node(path):
        return {"path": path, "hostPath": fake_node(node_root, path)}

    def nvhook(*args):
        return {"hookName": "createContainer", "path": hook, "args": ["nvidia-cdi-hook"] + list(args),
                "env": ["NVIDIA_CTK_DEBUG=false"]}

    ro = ["ro", "nosuid", "nodev", "rbind", "rprivate"]
    devices = []
    every_node, every_hook = [], []
    for i in range(gpus):
        bdf = "0000:%02x:00.0" % (0x18 + 0x20 * i)
        nodes = [node("/dev/nvidia%d" % i), node("/dev/dri/card%d" % (i + 1)),
                 node("/dev/dri/renderD%d" % (128 + i))]
        hooks = [nvhook("create-symlinks", "--link", "../card%d::/dev/dri/by-path/pci-%s-card" % (i + 1, bdf),
                        "--link", "../renderD%d::/dev/dri/by-path/pci-%s-render" % (128 + i, bdf))]
        edits = {"deviceNodes": nodes, "hooks": hooks}
        devices.append({"name": str(i), "containerEdits": edits})
        devices.append({"name": "GPU-%08x-%04x-%04x-%04x-%012x" % (0x5eed0000 + i, i, 0x4a4a, 0x8b8b, 0xc0de + i),
                        "containerEdits": edits})
        every_node += nodes
        every_hook += hooks
    devices.append({"name": "all", "containerEdits": {"deviceNodes": every_node, "hooks": every_hook}})
    names = ["libcuda.so", "libnvidia-ml.so", "libnvidia-ptxjitcompiler.so", "libnvidia-nvvm.so",
             "libnvidia-opencl.so", "libnvidia-cfg.so", "libnvidia-allocator.so", "libnvidia-gpucomp.so",
             "libcudadebugger.so", "libnvidia-pkcs11-openssl3.so", "libnvidia-opticalflow.so", "libnvcuvid.so"]
    mounts = [{"hostPath": "/run/nvidia-persistenced/socket", "containerPath": "/run/nvidia-persistenced/socket",
               "options": ro + ["noexec"]}]
    mounts += [{"hostPath": "/usr/bin/" + b, "containerPath": "/usr/bin/" + b, "options": ro}
               for b in ("nvidia-smi", "nvidia-debugdump", "nvidia-persistenced")]
    mounts += [{"hostPath": "%s/%s.%s" % (libdir, n, driver), "containerPath": "%s/%s.%s" % (libdir, n, driver),
                "options": ro} for n in (names + ["libnvidia-extra%02d.so" % k for k in range(libs)])[:libs]]
    mounts += [{"hostPath": "/lib/firmware/nvidia/%s/gsp_ga10x.bin" % driver,
                "containerPath": "/lib/firmware/nvidia/%s/gsp_ga10x.bin" % driver, "options": ro}]
    return {
        "cdiVersion": version,
        "kind": "nvidia.com/gpu",
        "containerEdits": {
            "env": ["NVIDIA_VISIBLE_DEVICES=void"],
            "deviceNodes": [node(p) for p in ("/dev/nvidia-modeset", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
                                              "/dev/nvidiactl")],
            "hooks": [nvhook("create-symlinks", "--link", "libcuda.so.1::%s/libcuda.so" % libdir),
                      nvhook("enable-cuda-compat", "--host-driver-version=" + driver),
                      nvhook("update-ldcache", "--folder", libdir)],
            "mounts": mounts,
        },
        "devices": devices,
    }

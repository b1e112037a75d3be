#!/usr/bin/env python3
"""Writes a benchmark workload shaped like an `nvidia-ctk cdi generate` host.

    gen_nvidia_like.py OUTDIR [--gpus 8] [--libs 60] [--cdi-version 0.5.0]
                              [--others M] [--format yaml|json] [--request NAME=LIST ...]

OUTDIR receives:
  dev/                fake character device nodes (mknod, so root is needed):
                      nvidia0..N-1, dri/card1..N, dri/renderD128.., nvidiactl,
                      nvidia-modeset, nvidia-uvm, nvidia-uvm-tools
  cdi/nvidia.yaml     (or .json with --format json) kind nvidia.com/gpu: per GPU an index device and a UUID
                      device (3 nodes and a create-symlinks hook each), `all`
                      (the union), top-level env, 4 nodes, hooks and ~70 mounts
  cdi/other-NNN.yaml  with --others M: M specs of unrelated kinds
                      (vendorNNN.example.com/accel), each about as large
  config-NAME.json    an OCI config asking for LIST (device names of
                      nvidia.com/gpu, comma-separated) by a cdi.k8s.io/ annotation.
                      Default: config-full.json (all plus 0..N-1) and
                      config-all.json (all).

The YAML is written the way nvidia-ctk writes it (sigs.k8s.io/yaml): keys
sorted, sequences at their key's indentation, plain scalars unless quoting is
needed. cdiVersion defaults to 0.5.0, the newest the Debian Go library reads.
Prints the size of each spec file written.
"""
import argparse
import json
import os
import re
import stat
import sys

DRIVER = "550.54.15"
LIBDIR = "/usr/lib/x86_64-linux-gnu"
HOOK = "/usr/bin/nvidia-cdi-hook"
HOOK_ENV = ["NVIDIA_CTK_DEBUG=false"]
MOUNT_OPTIONS = ["ro", "nosuid", "nodev", "rbind", "rprivate"]

# Library stems of a driver install with graphics (as nvidia-ctk finds them).
LIB_STEMS = [
    "libEGL_nvidia", "libGLESv1_CM_nvidia", "libGLESv2_nvidia", "libGLX_nvidia", "libcuda", "libcudadebugger",
    "libnvcuvid", "libnvidia-allocator", "libnvidia-cfg", "libnvidia-eglcore", "libnvidia-encode",
    "libnvidia-fbc", "libnvidia-glcore", "libnvidia-glsi", "libnvidia-glvkspirv", "libnvidia-gpucomp",
    "libnvidia-ml", "libnvidia-ngx", "libnvidia-nvvm", "libnvidia-opencl", "libnvidia-opticalflow",
    "libnvidia-pkcs11-openssl3", "libnvidia-pkcs11", "libnvidia-ptxjitcompiler", "libnvidia-rtcore",
    "libnvidia-tls", "libnvoptix", "libnvidia-vksc-core", "libnvidia-egl-gbm", "libnvidia-egl-wayland",
]
BINARIES = ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control",
            "nvidia-cuda-mps-server"]


def lib_names(count):
    """`count` distinct library file names: the stems above, then 32-bit copies."""
    names = []
    for i in range(count):
        stem = LIB_STEMS[i % len(LIB_STEMS)]
        suffix = "" if i < len(LIB_STEMS) else "-i386compat%d" % (i // len(LIB_STEMS))
        names.append("%s%s.so.%s" % (stem, suffix, DRIVER))
    return names


class Nodes:
    """Creates fake character devices under OUTDIR/dev and hands out their paths."""

    def __init__(self, root):
        self.root = root

    def make(self, rel, major, minor):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            st = os.lstat(path)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(major, minor):
                return path
            os.unlink(path)
        except FileNotFoundError:
            pass
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        except PermissionError:
            sys.exit("gen_nvidia_like: mknod %s: permission denied (run as root)" % path)
        os.chmod(path, 0o666)
        return path


def node_entry(container_path, host_path):
    return {"path": container_path, "hostPath": host_path}


def hook(args):
    return {"hookName": "createContainer", "path": HOOK, "args": ["nvidia-cdi-hook"] + args, "env": HOOK_ENV}


def mount(path, extra=()):
    return {"hostPath": path, "containerPath": path, "options": MOUNT_OPTIONS + list(extra)}


def gpu_uuid(vendor_no, i):
    return "GPU-%08x-%04x-%04x-%04x-%012x" % (0x5e1f0000 + vendor_no * 0x100 + i, 0x1c2d + i, 0x4e5f, 0x8a9b,
                                                0x0123456789ab + 0x1111 * i)


def device_spec(kind, gpus, libs, cdi_version, nodes, vendor_no=0):
    """A spec of `kind` shaped like nvidia-ctk's output for `gpus` GPUs."""
    gpu_devices = []
    for i in range(gpus):
        bus = "0000:%02x:00.0" % (0x17 + 0x10 * i)
        edits = {
            "deviceNodes": [
                node_entry("/dev/nvidia%d" % i, nodes.make("nvidia%d" % i, 195, i)),
                node_entry("/dev/dri/card%d" % (i + 1), nodes.make("dri/card%d" % (i + 1), 226, i + 1)),
                node_entry("/dev/dri/renderD%d" % (128 + i), nodes.make("dri/renderD%d" % (128 + i), 226, 128 + i)),
            ],
            "hooks": [hook(["create-symlinks",
                            "--link", "../card%d::/dev/dri/by-path/pci-%s-card" % (i + 1, bus),
                            "--link", "../renderD%d::/dev/dri/by-path/pci-%s-render" % (128 + i, bus)])],
        }
        gpu_devices.append((str(i), gpu_uuid(vendor_no, i), edits))
    devices = []
    for index, uuid, edits in gpu_devices:
        devices.append({"name": index, "containerEdits": edits})
        devices.append({"name": uuid, "containerEdits": edits})
    devices.append({"name": "all", "containerEdits": {
        "deviceNodes": [n for _, _, e in gpu_devices for n in e["deviceNodes"]],
        "hooks": [h for _, _, e in gpu_devices for h in e["hooks"]],
    }})

    libraries = lib_names(libs)
    mounts = [mount("%s/%s" % (LIBDIR, name)) for name in libraries]
    mounts += [mount("/usr/bin/" + b) for b in BINARIES]
    mounts += [mount("/lib/firmware/nvidia/%s/%s" % (DRIVER, f)) for f in ("gsp_ga10x.bin", "gsp_tu10x.bin")]
    mounts.append(mount("/run/nvidia-persistenced/socket", ["noexec"]))
    symlinks = []
    for name in libraries[:8]:
        soname = name.split(".so.")[0] + ".so.1"
        symlinks += ["--link", "%s::%s/%s" % (name, LIBDIR, soname)]
    return {
        "cdiVersion": cdi_version,
        "kind": kind,
        "devices": devices,
        "containerEdits": {
            "env": ["NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_CTK_LIBCUDA_DIR=" + LIBDIR],
            "deviceNodes": [
                node_entry("/dev/nvidia-modeset", nodes.make("nvidia-modeset", 195, 254)),
                node_entry("/dev/nvidia-uvm", nodes.make("nvidia-uvm", 509, 0)),
                node_entry("/dev/nvidia-uvm-tools", nodes.make("nvidia-uvm-tools", 509, 1)),
                node_entry("/dev/nvidiactl", nodes.make("nvidiactl", 195, 255)),
            ],
            "hooks": [
                hook(["create-symlinks"] + symlinks),
                hook(["enable-cuda-compat", "--host-driver-version=" + DRIVER]),
                hook(["update-ldcache", "--folder", LIBDIR]),
                hook(["disable-device-node-modification"]),
            ],
            "mounts": mounts,
        },
    }


# --- YAML in sigs.k8s.io/yaml's layout -------------------------------------

PLAIN_SAFE = re.compile(r"^(?:[A-Za-z0-9/_.]|-(?=[^ ]))[A-Za-z0-9/_.:=,@+-]*$")
NUMBER_LIKE = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$")
RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    plain = (PLAIN_SAFE.match(s) and not NUMBER_LIKE.match(s) and s.lower() not in RESERVED
             and ": " not in s and not s.endswith(":"))
    return s if plain else json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def emit(value, indent, out):
    pad = " " * indent
    if isinstance(value, dict):
        for key in sorted(value):
            v = value[key]
            if isinstance(v, dict) and v:
                out.append("%s%s:" % (pad, key))
                emit(v, indent + 2, out)
            elif isinstance(v, list) and v:
                out.append("%s%s:" % (pad, key))
                emit(v, indent, out)  # sequences sit at their key's indentation
            elif isinstance(v, (dict, list)):
                out.append("%s%s: %s" % (pad, key, "{}" if isinstance(v, dict) else "[]"))
            else:
                out.append("%s%s: %s" % (pad, key, scalar(v)))
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub = []
                emit(item, indent + 2, sub)
                out.append("%s- %s" % (pad, sub[0][indent + 2:]))
                out.extend(sub[1:])
            else:
                out.append("%s- %s" % (pad, scalar(item)))


def to_yaml(doc):
    out = ["---"]
    emit(doc, 0, out)
    return "\n".join(out) + "\n"


# --- OCI config -------------------------------------------------------------

def oci_config(kind, names):
    request = ",".join("%s=%s" % (kind, n) for n in names)
    caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
            "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["nvidia-smi", "-L"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
                    "container=podman", "HOME=/root", "HOSTNAME=bench"],
            "cwd": "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
                        {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304}],
            "oomScoreAdj": 0,
        },
        "root": {"path": "/var/lib/containers/storage/overlay/3f1c/merged"},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/etc/hosts", "type": "bind", "source": "/run/containers/storage/hosts",
             "options": ["bind", "rprivate"]},
            {"destination": "/dev/shm", "type": "bind", "source": "/var/lib/containers/storage/shm",
             "options": ["bind", "rprivate"]},
        ],
        "annotations": {
            "io.container.manager": "libpod",
            "org.opencontainers.image.stopSignal": "15",
            "cdi.k8s.io/gpu": request,
        },
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}],
                          "pids": {"limit": 2048}},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
            "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                        "syscalls": [{"names": ["read", "write", "openat", "close", "mmap", "exit_group"],
                                      "action": "SCMP_ACT_ALLOW"}]},
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                            "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"],
            "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("outdir")
    p.add_argument("--gpus", type=int, default=8)
    p.add_argument("--libs", type=int, default=60, help="library mounts (plus 8 binaries, firmware, socket)")
    p.add_argument("--cdi-version", default="0.5.0")
    p.add_argument("--others", type=int, default=0, metavar="M", help="unrelated specs of other kinds to add")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml",
                   help="spec file format (json: the same content, indented JSON)")
    p.add_argument("--request", action="append", metavar="NAME=LIST",
                   help="write config-NAME.json requesting LIST (repeatable)")
    a = p.parse_args()

    out = os.path.abspath(a.outdir)
    spec_dir = os.path.join(out, "cdi")
    os.makedirs(spec_dir, exist_ok=True)
    os.chmod(out, 0o755)
    os.chmod(spec_dir, 0o755)
    nodes = Nodes(os.path.join(out, "dev"))

    def write(path, text):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)

    ext = a.format
    encode = to_yaml if ext == "yaml" else (lambda doc: json.dumps(doc, indent=2) + "\n")
    kind = "nvidia.com/gpu"
    text = encode(device_spec(kind, a.gpus, a.libs, a.cdi_version, nodes))
    write(os.path.join(spec_dir, "nvidia." + ext), text)
    print("%s/nvidia.%s %d bytes" % (spec_dir, ext, len(text)))
    for k in range(a.others):
        other_kind = "vendor%03d.example.com/accel" % k
        other = encode(device_spec(other_kind, a.gpus, a.libs, a.cdi_version, nodes, vendor_no=k + 1))
        write(os.path.join(spec_dir, "other-%03d.%s" % (k, ext)), other)
    if a.others:
        print("%s/other-*.%s %d files of about %d bytes" % (spec_dir, ext, a.others, len(other)))

    requests = a.request or ["full=all," + ",".join(str(i) for i in range(a.gpus)), "all=all"]
    for r in requests:
        name, _, names = r.partition("=")
        if not name or not names:
            sys.exit("gen_nvidia_like: --request wants NAME=LIST, got %r" % r)
        path = os.path.join(out, "config-%s.json" % name)
        write(path, json.dumps(oci_config(kind, names.split(",")), indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main()

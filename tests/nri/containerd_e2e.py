#!/usr/bin/python3
"""The CRI side of containerd_e2e.sh: drives a real containerd (with NRI and
cdi-hook-nri connected) over its gRPC socket and checks what the plugin's
edits became, from containerd's side and from inside the container.

  containerd_e2e.py run|after-restart --suite trixie|sid --tmp DIR --ctr CTR --workload-image REF
  containerd_e2e.py cdi-on --mode raw|reference|auto ...   (containerd 2.x, enable_cdi = true)
  containerd_e2e.py cdi-off-reference ...                  (containerd 2.x, enable_cdi = false)
  containerd_e2e.py cleanup --tmp DIR     (stops and removes what they made)

DIR is containerd_e2e.sh's temp dir: containerd.sock, cdi/, share/, plugin.log,
hook-state.json, and pb/cri_subset_pb2.py (protoc of cri_subset.proto).
Each check prints one line, `ok: ...`; the first failure ends the run.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

import grpc

SERVICE = "/runtime.v1.RuntimeService/"
NAMESPACE = "default"
POD = "e2e-pod"
CDI_ANNOTATION = "cdi.k8s.io/test"


class Failed(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise Failed(what + (":\n" + detail if detail else ""))
    print("ok: " + what, flush=True)


class Cri:
    def __init__(self, tmp):
        sys.path.insert(0, os.path.join(tmp, "pb"))
        import cri_subset_pb2  # noqa: E402 (generated at run time)

        self.pb = cri_subset_pb2
        self.tmp = tmp
        self.channel = grpc.insecure_channel("unix://" + os.path.join(tmp, "containerd.sock"))
        self.state_path = os.path.join(tmp, "cri-state.json")
        self.configs = {}  # sandbox id -> (name, annotations), for CreateContainer's sandbox_config

    def call(self, method, request, response_type, timeout=60):
        rpc = self.channel.unary_unary(
            SERVICE + method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )
        return rpc(request, timeout=timeout)

    def remember(self, kind, ident):
        state = self.state()
        state.setdefault(kind, []).append(ident)
        with open(self.state_path, "w") as f:
            json.dump(state, f)

    def state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def version(self):
        return self.call("Version", self.pb.VersionRequest(version="v1"), self.pb.VersionResponse)

    def sandbox_config(self, name=POD, annotations=None):
        pb = self.pb
        return pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid="e2e-uid-" + name, namespace=NAMESPACE, attempt=0),
            log_directory=os.path.join(self.tmp, "logs"),
            annotations=annotations or {},
            linux=pb.LinuxPodSandboxConfig(
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.NODE)
                )
            ),
        )

    def sandbox(self):
        return self.state()["sandboxes"][0]

    def run_pod_sandbox(self, name=POD, annotations=None):
        reply = self.call(
            "RunPodSandbox",
            self.pb.RunPodSandboxRequest(config=self.sandbox_config(name, annotations)),
            self.pb.RunPodSandboxResponse,
        )
        self.remember("sandboxes", reply.pod_sandbox_id)
        self.configs[reply.pod_sandbox_id] = (name, annotations)
        return reply.pod_sandbox_id

    def create_container(self, sandbox, name, image, command, annotations):
        pb = self.pb
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=image),
            command=command,
            annotations=annotations,
            log_path=name + ".log",
        )
        request = pb.CreateContainerRequest(
            pod_sandbox_id=sandbox, config=config, sandbox_config=self.sandbox_config(*self.configs.get(sandbox, (POD,)))
        )
        reply = self.call("CreateContainer", request, pb.CreateContainerResponse)
        self.remember("containers", reply.container_id)
        return reply.container_id

    def start_container(self, ident):
        self.call("StartContainer", self.pb.StartContainerRequest(container_id=ident), self.pb.StartContainerResponse)

    def status(self, ident):
        return self.call(
            "ContainerStatus", self.pb.ContainerStatusRequest(container_id=ident), self.pb.ContainerStatusResponse
        ).status

    def exec_sync(self, ident, cmd):
        return self.call(
            "ExecSync", self.pb.ExecSyncRequest(container_id=ident, cmd=cmd, timeout=10), self.pb.ExecSyncResponse
        )

    def cleanup(self):
        pb = self.pb
        state = self.state()
        for ident in state.get("containers", []):
            for method, req, resp in (
                ("StopContainer", pb.StopContainerRequest(container_id=ident, timeout=2), pb.StopContainerResponse),
                ("RemoveContainer", pb.RemoveContainerRequest(container_id=ident), pb.RemoveContainerResponse),
            ):
                try:
                    self.call(method, req, resp, timeout=20)
                except grpc.RpcError as e:
                    print("cleanup: %s %s: %s" % (method, ident, e.details()))
        for ident in state.get("sandboxes", []):
            for method, req, resp in (
                ("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=ident), pb.StopPodSandboxResponse),
                ("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=ident), pb.RemovePodSandboxResponse),
            ):
                try:
                    self.call(method, req, resp, timeout=20)
                except grpc.RpcError as e:
                    print("cleanup: %s %s: %s" % (method, ident, e.details()))
        if os.path.exists(self.state_path):
            os.unlink(self.state_path)


def oci_spec(ctr, tmp, ident):
    out = subprocess.run(
        [ctr, "--address", os.path.join(tmp, "containerd.sock"), "-n", "k8s.io", "containers", "info", ident],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)["Spec"]


def cri_log_text(path):
    """The container's output from a CRI log file (TIMESTAMP STREAM P|F TEXT)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return ""
    return "\n".join(line.split(" ", 3)[3] if line.count(" ") >= 3 else "" for line in lines)


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def find(items, **fields):
    return [i for i in items or [] if all(i.get(k) == v for k, v in fields.items())]


def check_spec(spec, tmp, nodes):
    """What containerd wrote into the OCI spec of the container with the CDI annotation."""
    linux = spec.get("linux", {})
    for path, (major, minor) in nodes.items():
        dev = find(linux.get("devices"), path=path)
        check(
            len(dev) == 1 and dev[0].get("type") == "c" and (dev[0].get("major"), dev[0].get("minor")) == (major, minor),
            "OCI spec linux.devices has %s c %d:%d (the host node's numbers)" % (path, major, minor),
            json.dumps(linux.get("devices"), indent=1),
        )
        rules = find(linux.get("resources", {}).get("devices"), allow=True, type="c", major=major, minor=minor)
        check(
            any(r.get("access") == "rw" for r in rules),
            "OCI spec linux.resources.devices allows c %d:%d rw" % (major, minor),
            json.dumps(linux.get("resources", {}).get("devices"), indent=1),
        )
    env = spec.get("process", {}).get("env", [])
    check("CDI_E2E_DEVICE=vendor.com/class=dev" in env, "OCI spec process.env has CDI_E2E_DEVICE", "\n".join(env))
    mounts = find(spec.get("mounts"), destination="/cdi-share")
    check(
        len(mounts) == 1
        and mounts[0].get("source") == os.path.join(tmp, "share")
        and "ro" in mounts[0].get("options", []),
        "OCI spec mounts has %s/share on /cdi-share, ro" % tmp,
        json.dumps(spec.get("mounts"), indent=1),
    )
    hooks = spec.get("hooks", {}).get("createRuntime", [])
    check(
        any(h.get("path") == "/bin/sh" and "cat > %s/hook-state.json" % tmp in h.get("args", []) for h in hooks),
        "OCI spec hooks.createRuntime has the spec's hook",
        json.dumps(spec.get("hooks"), indent=1),
    )


def check_plain_spec(spec, cdi_spec, nodes):
    """A container without cdi.k8s.io/ annotations: none of the edits, and
    nothing else differs from the CDI container but what the edits added."""
    linux = spec.get("linux", {})
    check(
        not any(d.get("path") in nodes for d in linux.get("devices") or []),
        "plain container: no /dev/cdi-* device in its OCI spec",
        json.dumps(linux.get("devices"), indent=1),
    )
    check(
        not any(e.startswith("CDI_E2E_DEVICE=") for e in spec.get("process", {}).get("env", [])),
        "plain container: no CDI_E2E_DEVICE in its env",
    )
    check(not find(spec.get("mounts"), destination="/cdi-share"), "plain container: no /cdi-share mount")
    check(not spec.get("hooks", {}).get("createRuntime"), "plain container: no createRuntime hook")
    plain_rules = linux.get("resources", {}).get("devices") or []
    cdi_rules = cdi_spec.get("linux", {}).get("resources", {}).get("devices") or []
    added = [r for r in cdi_rules if r not in plain_rules]
    expected = [{"allow": True, "type": "c", "major": ma, "minor": mi, "access": "rw"} for ma, mi in nodes.values()]
    check(
        sorted(json.dumps(r, sort_keys=True) for r in added) == sorted(json.dumps(r, sort_keys=True) for r in expected),
        "the CDI container's cgroup rules are the plain one's plus exactly c 1:3 rw and c 1:5 rw",
        "added: " + json.dumps(added),
    )


def run(args):
    tmp = args.tmp
    cri = Cri(tmp)
    v = cri.version()
    print("CRI Version: %s %s (CRI %s)" % (v.runtime_name, v.runtime_version, v.runtime_api_version), flush=True)
    check(v.runtime_name == "containerd", "containerd answers CRI runtime.v1")

    nodes = {}
    for path, host in (("/dev/cdi-null", "/dev/null"), ("/dev/cdi-zero", "/dev/zero")):
        rdev = os.stat(host).st_rdev
        nodes[path] = (os.major(rdev), os.minor(rdev))

    sandbox = cri.run_pod_sandbox()
    print("sandbox %s" % sandbox, flush=True)

    # The container asking for vendor.com/class=dev.
    script = "ls -ln /dev/cdi-null /dev/cdi-zero; env | sort; cat /cdi-share/hello; echo WORKLOAD-DONE; sleep 3600"
    cdi = cri.create_container(
        sandbox, "cdi", args.workload_image, ["/bin/sh", "-c", script], {CDI_ANNOTATION: "vendor.com/class=dev"}
    )
    cri.start_container(cdi)
    spec = oci_spec(args.ctr, tmp, cdi)
    check_spec(spec, tmp, nodes)

    log_path = os.path.join(tmp, "logs", "cdi.log")
    text = wait_for(lambda: "WORKLOAD-DONE" in cri_log_text(log_path) and cri_log_text(log_path), 20)
    check(bool(text), "the workload ran and wrote its CRI log (%s)" % log_path, cri_log_text(log_path))
    print("  --- workload output ---\n  " + "\n  ".join(l for l in text.splitlines() if "PATH" not in l), flush=True)
    for path, (major, minor) in nodes.items():
        check(
            re.search(r"^c\S* .* %d, +%d .*%s$" % (major, minor, re.escape(path)), text, re.M) is not None,
            "inside the container: %s is c %d, %d" % (path, major, minor),
            text,
        )
    check("CDI_E2E_DEVICE=vendor.com/class=dev" in text.splitlines(), "inside the container: env has CDI_E2E_DEVICE")
    check("hello from the host" in text.splitlines(), "inside the container: /cdi-share/hello is the host's file")

    r = cri.exec_sync(
        cdi,
        ["/bin/sh", "-c", "head -c 4 /dev/cdi-zero | od -An -tx1; echo x > /dev/cdi-null && echo wrote-null; "
         "echo x > /cdi-share/new 2>&1 || echo share-read-only"],
    )
    out = r.stdout.decode()
    check(
        r.exit_code == 0 and out.split()[:4] == ["00"] * 4 and "wrote-null" in out and "share-read-only" in out,
        "ExecSync: /dev/cdi-zero reads zeros, /dev/cdi-null takes a write (cgroup allows rw), /cdi-share is read-only",
        "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.exit_code, out, r.stderr.decode()),
    )

    try:
        with open(os.path.join(tmp, "hook-state.json")) as f:
            hook_state = json.load(f)
    except (FileNotFoundError, ValueError) as e:
        raise Failed("the createRuntime hook did not write its state: %s" % e)
    check(hook_state.get("id") == cdi, "the createRuntime hook ran on the host with the container's state (id %s)" % cdi)

    # A container without cdi.k8s.io/ annotations.
    plain = cri.create_container(sandbox, "plain", args.workload_image, ["/bin/sh", "-c", "sleep 3600"], {})
    cri.start_container(plain)
    check_plain_spec(oci_spec(args.ctr, tmp, plain), spec, nodes)

    # An unresolvable device: CreateContainer fails with the plugin's line.
    started = time.monotonic()
    try:
        bad = cri.create_container(
            sandbox, "bad", args.workload_image, ["/bin/sh"], {CDI_ANNOTATION: "vendor.com/class=nonexistent"}
        )
        raise Failed("CreateContainer with vendor.com/class=nonexistent succeeded (container %s)" % bad)
    except grpc.RpcError as e:
        elapsed = time.monotonic() - started
        print("CreateContainer error (%s, after %.2f s): %s" % (e.code().name, elapsed, e.details()), flush=True)
        expected = (
            'cdi-hook: unresolvable CDI device "vendor.com/class=nonexistent": no device "nonexistent" in "%s" '
            "(it has dev, ro)" % os.path.join(tmp, "cdi", "vendor.com-class.yaml")
        )
        check(expected in e.details(), "an unresolvable device fails CreateContainer with the plugin's line", expected)

    # A read-only node: NRI before v0.10 cannot carry an "r" cgroup rule; the
    # plugin's error, with the spec file and field, reaches the CRI caller.
    nri = "v0.6" if args.suite == "trixie" else "v0.8"
    try:
        bad = cri.create_container(
            sandbox, "ro", args.workload_image, ["/bin/sh"], {CDI_ANNOTATION: "vendor.com/class=ro"}
        )
        raise Failed("CreateContainer with vendor.com/class=ro succeeded on NRI %s (container %s)" % (nri, bad))
    except grpc.RpcError as e:
        print("CreateContainer error (%s): %s" % (e.code().name, e.details()), flush=True)
        expected = (
            'cdi-hook: device "vendor.com/class=ro": %s: devices[1].containerEdits.deviceNodes[0]: the runtime '
            '(NRI %s) cannot carry the device cgroup rule "allow c 1:5 r"'
            % (os.path.join(tmp, "cdi", "vendor.com-class.yaml"), nri)
        )
        check(expected in e.details(), "a node with permissions r fails CreateContainer with the plugin's line", expected)

    # A spec written 300 ms after CreateContainer was sent: the plugin waits
    # for it (within containerd's request timeout) and the container starts.
    late_spec = os.path.join(tmp, "cdi", "vendor.com-late.yaml")

    def write_late():
        time.sleep(0.3)
        with open(late_spec + ".tmp", "w") as f:
            f.write(LATE_SPEC)
        os.rename(late_spec + ".tmp", late_spec)

    writer = threading.Thread(target=write_late)
    started = time.monotonic()
    writer.start()
    late = cri.create_container(
        sandbox, "late", args.workload_image, ["/bin/sh", "-c", "sleep 3600"], {CDI_ANNOTATION: "vendor.com/late=full"}
    )
    elapsed = time.monotonic() - started
    writer.join()
    cri.start_container(late)
    late_oci = oci_spec(args.ctr, tmp, late)
    full = os.stat("/dev/full").st_rdev
    check(
        bool(find(late_oci.get("linux", {}).get("devices"), path="/dev/cdi-full", major=os.major(full), minor=os.minor(full))),
        "a spec written 300 ms late: CreateContainer waited (%.2f s) and the container has /dev/cdi-full" % elapsed,
        json.dumps(late_oci.get("linux", {}).get("devices")),
    )
    r = cri.exec_sync(late, ["/bin/sh", "-c", "ls -ln /dev/cdi-full"])
    check(r.exit_code == 0 and r.stdout.decode().startswith("c"), "inside the late container: " + r.stdout.decode().strip())

    # The plugin's log.
    with open(os.path.join(tmp, "plugin.log")) as f:
        log = f.read()
    print("  --- plugin log (info and above) ---", flush=True)
    for line in log.splitlines():
        if " debug:" not in line and " trace:" not in line:
            print("  " + line, flush=True)
    spec_file = os.path.join(tmp, "cdi", "vendor.com-class.yaml")
    if args.suite == "trixie":
        configured = (
            r'configured by runtime "containerd" "1\.7\.\d+[^"]*" drops CDI device names.*\(NRI v0\.6\); '
            r"cdi-mode raw: answering with raw edits; "
            r"request timeout 2000 ms \(not sent by the runtime: its default assumed\), wait up to 1000 ms"
        )
        what = "configured by containerd 1.7 (NRI v0.6, raw edits), which sends no request timeout (2000 ms assumed, wait 1000 ms)"
    else:
        configured = (
            r'configured by runtime "containerd" "2\.\d+\.\d+[^"]*" honours CDI device names.*\(NRI v0\.8\); '
            r"cdi-mode raw: answering with raw edits; request timeout 2000 ms, wait up to 1000 ms"
        )
        what = "configured by containerd 2.x (NRI v0.8, raw edits), which sends its request timeout (2000 ms, wait 1000 ms)"
    check(re.search(configured, log) is not None, "plugin log: " + what, log)
    check(
        re.search(r"info: %s/%s/cdi: injected vendor.com/class=dev from %s" % (NAMESPACE, POD, re.escape(spec_file)), log)
        is not None,
        "plugin log: %s/%s/cdi: injected vendor.com/class=dev from the spec file" % (NAMESPACE, POD),
        log,
    )
    check(
        re.search(r"error: %s/%s/bad: cdi-hook: unresolvable CDI device \"vendor.com/class=nonexistent\"" % (NAMESPACE, POD), log)
        is not None,
        "plugin log: %s/%s/bad: the unresolvable device's error" % (NAMESPACE, POD),
        log,
    )
    plain_lines = [line for line in log.splitlines() if "%s/%s/plain:" % (NAMESPACE, POD) in line]
    check(
        len(plain_lines) == 1 and plain_lines[0].endswith(" debug: %s/%s/plain: no cdi.k8s.io/ annotations" % (NAMESPACE, POD)),
        "plugin log: %s/%s/plain: no cdi.k8s.io/ annotations (debug), nothing else" % (NAMESPACE, POD),
        "\n".join(plain_lines),
    )


LATE_SPEC = """cdiVersion: "0.6.0"
kind: vendor.com/late
devices:
  - name: full
    containerEdits:
      deviceNodes:
        - path: /dev/cdi-full
          hostPath: /dev/full
"""


def after_restart(args):
    """containerd was restarted: the plugin reconnected, the running containers
    kept their devices, a new container still gets them."""
    tmp = args.tmp
    cri = Cri(tmp)
    with open(os.path.join(tmp, "plugin.log")) as f:
        log = f.read()
    check(
        "the runtime closed the connection; reconnecting" in log and log.count("registered as 10-cdi-hook") == 2,
        "plugin log: the runtime closed the connection; the plugin reconnected and registered again",
        log,
    )
    syncs = re.findall(r"synchronize: (\d+) pods, (\d+) containers", log)
    check(
        len(syncs) == 2 and syncs[1][0] == "1" and int(syncs[1][1]) >= 3,
        "plugin log: synchronized after the restart with %s" % (", ".join("%s pods, %s containers" % p for p in syncs)),
        log,
    )
    first = cri.state()["containers"][0]
    status = cri.status(first)
    check(status.state == cri.pb.CONTAINER_RUNNING, "the first CDI container is still running after the restart")
    r = cri.exec_sync(first, ["/bin/sh", "-c", "ls -ln /dev/cdi-null"])
    check(r.exit_code == 0 and " 1,   3 " in r.stdout.decode(), "it still sees /dev/cdi-null (ExecSync through the new containerd)")
    again = cri.create_container(
        cri.sandbox(), "again", args.workload_image, ["/bin/sh", "-c", "sleep 3600"],
        {CDI_ANNOTATION: "vendor.com/class=dev"},
    )
    cri.start_container(again)
    spec = oci_spec(args.ctr, tmp, again)
    check(
        bool(find(spec.get("linux", {}).get("devices"), path="/dev/cdi-null")),
        "a container created after the restart gets vendor.com/class=dev",
        json.dumps(spec.get("linux", {}).get("devices")),
    )
    with open(os.path.join(tmp, "plugin.log")) as f:
        log = f.read()
    check("info: %s/%s/again: injected vendor.com/class=dev" % (NAMESPACE, POD) in log,
          "plugin log: %s/%s/again: injected vendor.com/class=dev" % (NAMESPACE, POD), log)


def plugin_log(tmp):
    with open(os.path.join(tmp, "plugin.log")) as f:
        return f.read()


def count_edits(spec, tmp):
    """How many times each of vendor.com/class=dev's edits is in an OCI spec."""
    hook = "cat > %s/hook-state.json" % tmp
    return {
        "/dev/cdi-null": len(find(spec.get("linux", {}).get("devices"), path="/dev/cdi-null")),
        "/dev/cdi-zero": len(find(spec.get("linux", {}).get("devices"), path="/dev/cdi-zero")),
        "env": spec.get("process", {}).get("env", []).count("CDI_E2E_DEVICE=vendor.com/class=dev"),
        "mount": len(find(spec.get("mounts"), destination="/cdi-share")),
        "hook": sum(1 for h in spec.get("hooks", {}).get("createRuntime", []) if hook in h.get("args", [])),
    }


def check_once(spec, tmp, what):
    counts = count_edits(spec, tmp)
    check(
        all(n == 1 for n in counts.values()),
        what + ": each node, the env, the mount and the hook of vendor.com/class=dev once in the OCI spec",
        json.dumps(counts) + "\n" + json.dumps(spec.get("hooks"), indent=1),
    )


def late_trial(cri, args, kind, container):
    """A pod whose annotation names KIND's device, whose spec is written 300 ms
    after CreateContainer is sent. Returns (container id or None, error, seconds)."""
    spec_path = os.path.join(args.tmp, "cdi", kind.replace("/", "-") + ".yaml")
    sandbox = cri.run_pod_sandbox("e2e-" + container, {"cdi.k8s.io/late": kind + "=full"})

    def write_late():
        time.sleep(0.3)
        with open(spec_path + ".tmp", "w") as f:
            f.write(LATE_SPEC.replace("vendor.com/late", kind))
        os.rename(spec_path + ".tmp", spec_path)

    writer = threading.Thread(target=write_late)
    started = time.monotonic()
    writer.start()
    try:
        ident = cri.create_container(sandbox, container, args.workload_image, ["/bin/sh", "-c", "sleep 3600"], {})
        error = ""
    except grpc.RpcError as e:
        ident, error = None, "%s: %s" % (e.code().name, e.details())
    elapsed = time.monotonic() - started
    writer.join()
    return ident, error, elapsed


def cdi_on(args):
    """containerd 2.x with its own CDI support on (cdi_spec_dirs: the test's
    dir): it injects the devices of container annotations before NRI; the
    plugin skips them. In reference and auto modes the plugin passes the names
    of devices only the pod names (with pod-annotations), and containerd
    resolves them."""
    tmp, mode = args.tmp, args.mode
    cri = Cri(tmp)
    log = plugin_log(tmp)
    answer = "raw edits" if mode == "raw" else "CDI device names"
    check(
        re.search(r"honours CDI device names.*cdi-mode %s: answering with %s; request timeout 2000 ms," % (mode, answer), log)
        is not None,
        "plugin log: cdi-mode %s against containerd 2.x: answering with %s" % (mode, answer),
        log,
    )
    sandbox = cri.sandbox()
    cri.configs[sandbox] = (POD, None)
    name = "cdi-on-" + mode
    ident = cri.create_container(
        sandbox, name, args.workload_image, ["/bin/sh", "-c", "sleep 3600"], {CDI_ANNOTATION: "vendor.com/class=dev"}
    )
    cri.start_container(ident)
    spec = oci_spec(args.ctr, tmp, ident)
    check_once(spec, tmp, "containerd injected, cdi-mode %s" % mode)
    log = plugin_log(tmp)
    who = "%s/%s/%s" % (NAMESPACE, POD, name)
    lines = [l for l in log.splitlines() if who + ":" in l]
    check(
        len(lines) == 1
        and lines[0].endswith(
            " info: %s: skipped vendor.com/class=dev: the container has all its device nodes (the runtime injected it)" % who
        ),
        "plugin log: %s: skipped vendor.com/class=dev (the runtime injected it), nothing else" % who,
        "\n".join(lines),
    )
    r = cri.exec_sync(ident, ["/bin/sh", "-c", "head -c 4 /dev/cdi-zero | od -An -tx1; echo x > /dev/cdi-null && echo wrote"])
    check(r.exit_code == 0 and "wrote" in r.stdout.decode(), "ExecSync in %s: the nodes work" % name, r.stdout.decode())

    if mode == "raw":
        # containerd resolves container annotations itself, before NRI, and
        # does not wait: its own error, the plugin is never asked.
        try:
            bad = cri.create_container(
                sandbox, "cdi-on-missing", args.workload_image, ["/bin/sh"], {CDI_ANNOTATION: "vendor.com/class=nonexistent"}
            )
            raise Failed("CreateContainer with vendor.com/class=nonexistent succeeded (container %s)" % bad)
        except grpc.RpcError as e:
            print("CreateContainer error (%s): %s" % (e.code().name, e.details()), flush=True)
            check(
                "vendor.com/class=nonexistent" in e.details() and "cdi-hook:" not in e.details()
                and "cdi-on-missing" not in plugin_log(tmp),
                "an unresolvable device in a container annotation fails in containerd's own CDI (not the plugin's line; "
                "the plugin is not called)",
                e.details(),
            )
        return

    # A device only the pod names: containerd ignores pod annotations, the
    # plugin passes its name, containerd resolves it from its cache.
    pod = "e2e-pod-" + mode
    sandbox = cri.run_pod_sandbox(pod, {"cdi.k8s.io/pod": "vendor.com/class=dev"})
    ident = cri.create_container(sandbox, "pod-dev", args.workload_image, ["/bin/sh", "-c", "sleep 3600"], {})
    cri.start_container(ident)
    spec = oci_spec(args.ctr, tmp, ident)
    check_once(spec, tmp, "a device named only by the pod, cdi-mode %s" % mode)
    log = plugin_log(tmp)
    who = "%s/%s/pod-dev" % (NAMESPACE, pod)
    spec_file = os.path.join(tmp, "cdi", "vendor.com-class.yaml")
    check(
        "info: %s: passed vendor.com/class=dev to the runtime by name (resolved from %s)" % (who, spec_file) in log,
        "plugin log: %s: passed vendor.com/class=dev to the runtime by name" % who,
        log,
    )
    r = cri.exec_sync(ident, ["/bin/sh", "-c", "ls -ln /dev/cdi-null; cat /cdi-share/hello; env"])
    out = r.stdout.decode()
    check(
        r.exit_code == 0 and " 1,   3 " in out and "hello from the host" in out and "CDI_E2E_DEVICE=vendor.com/class=dev" in out,
        "inside %s/pod-dev: /dev/cdi-null, /cdi-share/hello and CDI_E2E_DEVICE (containerd resolved the name)" % pod,
        out,
    )

    # A spec written 300 ms after CreateContainer, for a device only the pod
    # names: the plugin waits for it and passes the name; containerd's own
    # CDI cache (refreshed by its own watcher, asynchronously) must have it.
    results = []
    for i in range(args.late_trials):
        kind = "vendor.com/late-%s-%d" % (mode, i)
        ident, error, elapsed = late_trial(cri, args, kind, "late-%s-%d" % (mode, i))
        results.append((kind, ident, error, elapsed))
        print("late trial %s: %s after %.2f s%s" % (kind, "created" if ident else "FAILED", elapsed,
                                                    "" if ident else ": " + error), flush=True)
    log = plugin_log(tmp)
    for kind, ident, error, elapsed in results:
        who = "%s/e2e-late-%s-%s/late-%s-%s" % (NAMESPACE, mode, kind[-1], mode, kind[-1])
        print("  plugin: " + "\n  plugin: ".join(l for l in log.splitlines() if who + ":" in l), flush=True)
    failed = [r for r in results if not r[1]]
    check(
        not failed,
        "a spec written 300 ms late, named by the pod, cdi-mode %s: all %d containers created with the device"
        % (mode, len(results)),
        "\n".join("%s: %s" % (r[0], r[2]) for r in failed),
    )
    for kind, ident, error, elapsed in results:
        spec = oci_spec(args.ctr, tmp, ident)
        waited = 'info: waiting up to 1000 ms for unresolvable CDI device "%s=full"' % kind in log
        check(
            waited and elapsed >= 0.3 and bool(find(spec.get("linux", {}).get("devices"), path="/dev/cdi-full")),
            "%s: the plugin waited, CreateContainer took %.2f s, the OCI spec has /dev/cdi-full" % (kind, elapsed),
            "waited: %s\n%s" % (waited, json.dumps(spec.get("linux", {}).get("devices"))),
        )


def cdi_off_reference(args):
    """containerd 2.x with its own CDI off, the plugin in reference mode:
    containerd still resolves the names the plugin returns, but not from
    cdi_spec_dirs (read only with enable_cdi = true): the test's dir is not
    seen and CreateContainer fails, loudly (the names are not dropped)."""
    tmp = args.tmp
    cri = Cri(tmp)
    sandbox = cri.sandbox()
    cri.configs[sandbox] = (POD, None)
    try:
        bad = cri.create_container(
            sandbox, "cdi-off-reference", args.workload_image, ["/bin/sh", "-c", "sleep 3600"],
            {CDI_ANNOTATION: "vendor.com/class=dev"},
        )
        raise Failed("CreateContainer succeeded (container %s)" % bad)
    except grpc.RpcError as e:
        print("CreateContainer error (%s): %s" % (e.code().name, e.details()), flush=True)
        details = e.details()
    log = plugin_log(tmp)
    who = "%s/%s/cdi-off-reference" % (NAMESPACE, POD)
    check(
        "info: %s: passed vendor.com/class=dev to the runtime by name" % who in log,
        "plugin log: %s: passed vendor.com/class=dev to the runtime by name" % who,
        log,
    )
    check(
        "failed to NRI-adjust container Spec: CDI device injection failed: unresolvable CDI devices vendor.com/class=dev"
        in details,
        "enable_cdi = false: containerd resolves the returned name itself, without cdi_spec_dirs, and fails "
        "CreateContainer (unresolvable CDI devices)",
        details,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "after-restart", "cdi-on", "cdi-off-reference", "cleanup"])
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--suite", choices=["trixie", "sid"], default="trixie")
    parser.add_argument("--mode", choices=["raw", "reference", "auto"], default="raw")
    parser.add_argument("--late-trials", type=int, default=3)
    parser.add_argument("--ctr")
    parser.add_argument("--workload-image")
    args = parser.parse_args()
    if args.command == "cleanup":
        Cri(args.tmp).cleanup()
        return 0
    steps = {"run": run, "after-restart": after_restart, "cdi-on": cdi_on, "cdi-off-reference": cdi_off_reference}
    try:
        steps[args.command](args)
    except Failed as e:
        print("FAIL: %s" % e, flush=True)
        return 1
    except grpc.RpcError as e:
        print("FAIL: %s: %s" % (e.code().name, e.details()), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What cdi-hook-nri answers for containers that ask for CDI devices, checked against the hook.

For a table of specs and containers covering every kind of edit, the runtime's side applies the plugin's
ContainerAdjustment to the container's OCI config (runtime_apply.py, NRI's own rules) and the result must
be what `cdi-hook inject` makes of the same config with the same spec dirs: the same env, device nodes,
cgroup access for each injected node, mounts, hooks, net devices and RDT. Errors must be the hook's line.
"""

import copy
import json
import os
import shutil
import tempfile
import threading
import time
import unittest

import harness as nh
import nritest
import runtime_apply as ra

KIND = "vendor.example/gpu"


def spec_text(devices, edits=None, kind=KIND, version="1.1.0"):
    s = {"cdiVersion": version, "kind": kind,
         "devices": [{"name": n, "containerEdits": e} for n, e in devices.items()]}
    if edits:
        s["containerEdits"] = edits
    return json.dumps(s, indent=1)


def oci_config(annotations, env=None, mounts=None, devices=None, hooks=None, user=(1000, 1000)):
    c = {
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": user[0], "gid": user[1]}, "args": ["sh"],
                    "env": env if env is not None else ["PATH=/usr/bin:/bin", "TERM=xterm", "GPU=none"],
                    "cwd": "/"},
        "root": {"path": "rootfs"},
        "mounts": mounts if mounts is not None else [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": "/srv/old", "options": ["rbind"]},
        ],
        "linux": {"resources": {"devices": [{"allow": False, "access": "rwm"}]}},
        "annotations": annotations,
    }
    if devices:
        c["linux"]["devices"] = devices
    if hooks:
        c["hooks"] = hooks
    return c


class Base(nritest.TestCase):
    def setUp(self):
        super().setUp()
        self.dev = os.path.join(self.tmp, "dev")
        nritest.mknod_char(os.path.join(self.dev, "gpu0"), 240, 0, 0o666)
        nritest.mknod_char(os.path.join(self.dev, "gpu1"), 240, 1, 0o660)
        nritest.mknod_char(os.path.join(self.dev, "ctl"), 240, 255, 0o666)
        os.mknod(os.path.join(self.dev, "disk0"), 0o640 | 0o060000, os.makedev(7, 200))  # a block node
        self.write_spec("gpu.json", self.gpu_spec())

    def gpu_spec(self, marker="1"):
        d = self.dev
        return spec_text({
            "0": {"env": ["GPU=0", "VISIBLE=0"],
                  "deviceNodes": [{"path": "/dev/gpu0", "hostPath": d + "/gpu0"}],
                  "mounts": [{"hostPath": "/usr/lib/gpu/libgpu0.so", "containerPath": "/usr/lib/libgpu0.so",
                              "options": ["ro", "nosuid", "nodev", "bind"]}],
                  "hooks": [{"hookName": "createContainer", "path": "/usr/bin/gpu-hook",
                             "args": ["gpu-hook", "symlink", "0"], "env": ["DEBUG=0"], "timeout": 10}]},
            "1": {"env": ["GPU=1", "VISIBLE=1"],
                  "deviceNodes": [{"path": "/dev/gpu1", "hostPath": d + "/gpu1", "permissions": "rw",
                                   "fileMode": 0o600, "uid": 0, "gid": 44}],
                  "mounts": [{"hostPath": "/srv/new", "containerPath": "/data", "options": ["rbind", "ro"]}]},
            "disk": {"deviceNodes": [{"path": "/dev/disk0", "hostPath": d + "/disk0"}]},
            "ro": {"deviceNodes": [{"path": "/dev/gpu-ro", "hostPath": d + "/gpu0", "permissions": "r"}]},
            "net": {"netDevices": [{"hostInterfaceName": "eth7", "name": "gpu-net0"}]},
            "rdt": {"intelRdt": {"closID": "gpu", "schemata": ["L3:0=ff"]}},
            "gids": {"additionalGids": [44, 45]},
            "all": {"deviceNodes": [{"path": "/dev/gpu0", "hostPath": d + "/gpu0"},
                                    {"path": "/dev/gpu1", "hostPath": d + "/gpu1"}]},
        }, edits={"env": ["GPU_DRIVER=" + marker],
                  "deviceNodes": [{"path": "/dev/gpuctl", "hostPath": d + "/ctl"}],
                  "mounts": [{"hostPath": "/usr/bin/gpu-smi", "containerPath": "/usr/bin/gpu-smi",
                              "options": ["ro", "bind"]},
                             {"hostPath": "tmpfs", "containerPath": "/var/gpu/a/b", "type": "tmpfs"}],
                  "hooks": [{"hookName": "prestart", "path": "/usr/bin/gpu-prestart"},
                            {"hookName": "poststop", "path": "/usr/bin/gpu-cleanup", "args": ["cleanup"]},
                            {"hookName": "startContainer", "path": "/usr/bin/gpu-start"},
                            {"hookName": "createRuntime", "path": "/usr/bin/gpu-rt"},
                            {"hookName": "poststart", "path": "/usr/bin/gpu-poststart"}]})

    def inject(self, config):
        """`cdi-hook inject` on config: (adjusted config or None, its error line)."""
        r = self.hook(["inject", "--config", "-", "--spec-dir", self.spec_dir, "--cache-dir", "none"], config)
        lines = r.stderr.decode().strip().splitlines()  # warnings first, the error line last
        return (json.loads(r.stdout) if r.returncode == 0 else None), (lines[-1] if lines else "")

    def start_for(self, runtime_version="v2.2.1", runtime_name="v2", extra=""):
        p = self.start(runtime_name=runtime_name, runtime_version=runtime_version)
        p.runtime.handshake(self.config_text(extra))
        return p

    def create(self, p, config, pod=None, name="ctr"):
        c = ra.container_from_config(config, name=name)
        return p.runtime.create_container(pod or nh.pod(), c)


def summary(config, nodes):
    """What a comparison looks at: env, device nodes, the access each of `nodes` ends with, mounts (by
    destination), hooks, net devices and RDT."""
    linux = config.get("linux", {})
    access = {}
    for d in linux.get("devices", []):
        if d["path"] in nodes:
            access[d["path"]] = ra.access_of(config, "b" if d["type"] == "b" else "c", d["major"], d["minor"])
    mounts = {m["destination"]: (m.get("source"), m.get("type", ""), m.get("options", []))
              for m in config.get("mounts", [])}
    return {
        "env": config["process"].get("env", []),
        "devices": linux.get("devices", []),
        "access": access,
        "mounts": mounts,
        "hooks": {k: v for k, v in config.get("hooks", {}).items() if v},
        "netDevices": linux.get("netDevices", {}),
        "intelRdt": linux.get("intelRdt"),
    }


def depth_sorted(config):
    depths = [os.path.normpath(m["destination"]).count("/") for m in config.get("mounts", [])]
    return depths == sorted(depths)


class SameAsTheHook(Base):
    # name, devices requested, runtime (name, version), how the applied result may differ from inject's
    CASES = [
        ("one_device_every_common_edit", "0", ("v2", "v2.2.1"), {}),
        ("two_devices_env_replaced_mount_replaced", "0,1", ("v2", "v2.2.1"), {}),
        ("block_device", "disk", ("v2", "v2.2.1"), {}),
        ("read_only_node_on_nri_v0_10", "ro", ("v2", "2.2.0"), {}),
        ("net_device_and_rdt_on_nri_v0_11", "net,rdt,0", ("v2", "v2.2.1"), {}),
        ("all_and_each", "all,0,1", ("cri-o", "1.35.0"), {}),
        # Before NRI v0.10 the runtime's own rule (rw) stands for a character node's default rwm.
        ("old_runtime_char_nodes_lose_mknod_only", "0,1", ("containerd", "v1.7.20"),
         {"/dev/gpu0": "rw", "/dev/gpuctl": "rw"}),
    ]

    def test_adjustment_gives_what_inject_gives(self):
        for name, devices, (rt_name, rt_version), access_differs in self.CASES:
            with self.subTest(case=name):
                config = oci_config({"cdi.k8s.io/test": ",".join(KIND + "=" + d for d in devices.split(","))},
                                    hooks={"prestart": [{"path": "/usr/bin/runtime-hook"}]})
                expected, err = self.inject(config)
                self.assertIsNotNone(expected, err)
                p = self.start_for(rt_version, rt_name)
                r = self.create(p, config)
                self.assertEqual(r.code, nh.OK, r)
                adjust = r.parse(nh.api.CreateContainerResponse).adjust
                self.assertEqual(len(adjust.CDI_devices), 0, "raw mode sends no device names")
                caps_v10 = not (rt_name == "containerd" and rt_version.startswith("v1.7"))
                applied = ra.apply(config, adjust, explicit_rules=caps_v10, net_and_rdt=rt_version >= "v2.2.1")
                injected_nodes = {d["path"] for d in expected["linux"].get("devices", [])}
                want, got = summary(expected, injected_nodes), summary(applied, injected_nodes)
                want["access"].update(access_differs)
                self.assertEqual(got, want)
                self.assertTrue(depth_sorted(applied))
                self.assertTrue(depth_sorted(expected))
                self.wait_for_log("default/pod/ctr: injected ")
                p.kill()


class Errors(Base):
    def assertSameError(self, config, timeout=None):
        expected, hook_line = self.inject(config)
        self.assertIsNone(expected)
        p = self.start_for()
        r = p.runtime.create_container(nh.pod(), ra.container_from_config(config), timeout=timeout)
        self.assertNotEqual(r.code, nh.OK, r)
        self.assertEqual(r.message, hook_line)
        return r

    def test_unresolvable_device(self):
        r = self.assertSameError(oci_config({"cdi.k8s.io/x": KIND + "=7"}))
        self.assertEqual(r.code, nh.NOT_FOUND, r)
        self.assertIn('unresolvable CDI device "vendor.example/gpu=7"', r.message)

    def test_missing_kind(self):
        self.assertSameError(oci_config({"cdi.k8s.io/x": "other.example/thing=1"}))

    def test_broken_spec_of_the_requested_kind(self):
        self.write_spec("broken.yaml", "cdiVersion: 1.1.0\nkind: other.example/broken\ndevices:\n- name: [\n")
        r = self.assertSameError(oci_config({"cdi.k8s.io/x": "other.example/broken=1"}))
        self.assertIn("broken.yaml", r.message)

    def test_broken_unrelated_spec_does_not_matter(self):
        self.write_spec("broken.yaml", "cdiVersion: 1.1.0\nkind: other.example/broken\ndevices:\n- name: [\n")
        p = self.start_for()
        r = self.create(p, oci_config({"cdi.k8s.io/x": KIND + "=0"}))
        self.assertEqual(r.code, nh.OK, r)

    def test_additional_gids_cannot_be_carried(self):
        p = self.start_for()
        r = self.create(p, oci_config({"cdi.k8s.io/x": KIND + "=gids"}))
        self.assertEqual(r.code, nh.FAILED_PRECONDITION, r)
        self.assertIn('device "vendor.example/gpu=gids"', r.message)
        self.assertIn("devices[6].containerEdits.additionalGids[0]: NRI cannot add supplementary groups", r.message)

    def test_net_devices_before_nri_v0_11(self):
        p = self.start_for("v2.1.0")
        r = self.create(p, oci_config({"cdi.k8s.io/x": KIND + "=net"}))
        self.assertEqual(r.code, nh.FAILED_PRECONDITION, r)
        self.assertIn("containerEdits.netDevices[0]: the runtime (NRI v0.8) cannot add network devices", r.message)

    def test_read_only_node_before_nri_v0_10(self):
        p = self.start_for("v1.7.30", "containerd")
        r = self.create(p, oci_config({"cdi.k8s.io/x": KIND + "=ro"}))
        self.assertEqual(r.code, nh.FAILED_PRECONDITION, r)
        self.assertIn('cannot carry the device cgroup rule "allow c 240:0 r"', r.message)

    def test_the_plugin_stays_after_errors(self):
        p = self.start_for()
        for _ in range(3):
            self.assertNotEqual(self.create(p, oci_config({"cdi.k8s.io/x": KIND + "=7"})).code, nh.OK)
        self.assertEqual(self.create(p, oci_config({"cdi.k8s.io/x": KIND + "=0"})).code, nh.OK)


class Decisions(Base):
    def test_devices_the_runtime_already_injected_by_nodes(self):
        # containerd with enable_cdi injected gpu=0 before NRI: its nodes are in the container already.
        config = oci_config({"cdi.k8s.io/x": KIND + "=0"})
        injected, err = self.inject(config)
        self.assertIsNotNone(injected, err)
        p = self.start_for()
        r = self.create(p, injected, pod=nh.pod(name="dj"))
        self.assertEmptyAdjustment(r)
        self.wait_for_log("default/dj/ctr: skipped vendor.example/gpu=0: the container has all its device nodes")

    def test_devices_containerd_injected_without_mode_or_owner(self):
        # containerd 2.1 with enable_cdi (its default) injects through the Go CDI library, which leaves a
        # node's fileMode, uid and gid unset when the spec does: containerd 2.1.9 wrote
        # {"path": "/dev/cdi-null", "type": "c", "major": 1, "minor": 3} (tests/nri/containerd_e2e.sh,
        # CDI_E2E_SUITE=sid). The device is injected all the same: skipped in raw mode, and in reference
        # mode its name is not passed back, which would make containerd inject it twice (hooks run twice).
        config = oci_config({"cdi.k8s.io/x": KIND + "=0"})
        injected, err = self.inject(config)
        self.assertIsNotNone(injected, err)
        for d in injected["linux"]["devices"]:
            for key in ("fileMode", "uid", "gid"):
                d.pop(key, None)
        for mode in ("raw", "reference", "auto"):
            with self.subTest(mode=mode):
                p = self.start_for("2.1.9", "containerd", extra="cdi-mode = %s\n" % mode)
                self.assertEmptyAdjustment(self.create(p, injected, pod=nh.pod(name=mode)))
                self.wait_for_log("default/%s/ctr: skipped vendor.example/gpu=0: the container has all its device nodes"
                                  % mode)
                p.kill()

    def test_a_node_with_other_numbers_is_not_the_device(self):
        # Mode and owners left unset match anything; the numbers never do.
        config = oci_config({"cdi.k8s.io/x": KIND + "=0"})
        injected, _ = self.inject(config)
        for d in injected["linux"]["devices"]:
            d.pop("fileMode", None)
            if d["path"] == "/dev/gpu0":
                d["minor"] = 9
        p = self.start_for("2.1.9", "containerd", extra="cdi-mode = reference\n")
        r = self.create(p, injected, pod=nh.pod(name="dn"))
        self.assertEqual(r.code, nh.OK, r)
        self.assertEqual([d.name for d in r.parse(nh.api.CreateContainerResponse).adjust.CDI_devices], [KIND + "=0"])

    def test_runtime_injected_one_of_two(self):
        config = oci_config({"cdi.k8s.io/x": KIND + "=0"})
        injected, _ = self.inject(config)
        injected["annotations"]["cdi.k8s.io/x"] = KIND + "=0," + KIND + "=1"
        p = self.start_for()
        r = self.create(p, injected)
        self.assertEqual(r.code, nh.OK, r)
        adjust = r.parse(nh.api.CreateContainerResponse).adjust
        self.assertEqual([d.path for d in adjust.linux.devices], ["/dev/gpu1"])
        self.assertIn("GPU=1", ["%s=%s" % (kv.key, kv.value) for kv in adjust.env])

    def test_pod_annotations_opt_in(self):
        pod = nh.pod(annotations={"cdi.k8s.io/pod": KIND + "=1"}, name="pa")
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})
        p = self.start_for(extra="pod-annotations = true\n")
        r = self.create(p, config, pod=pod)
        self.assertEqual(r.code, nh.OK, r)
        paths = sorted(d.path for d in r.parse(nh.api.CreateContainerResponse).adjust.linux.devices)
        self.assertEqual(paths, ["/dev/gpu0", "/dev/gpu1", "/dev/gpuctl"])
        off = self.start_for()
        r = self.create(off, config, pod=pod)
        paths = sorted(d.path for d in r.parse(nh.api.CreateContainerResponse).adjust.linux.devices)
        self.assertEqual(paths, ["/dev/gpu0", "/dev/gpuctl"])

    def test_only_pod_annotations_with_the_option(self):
        pod = nh.pod(annotations={"cdi.k8s.io/pod": KIND + "=1"})
        p = self.start_for(extra="pod-annotations = true\n")
        r = self.create(p, oci_config({}), pod=pod)
        self.assertEqual([d.path for d in r.parse(nh.api.CreateContainerResponse).adjust.linux.devices],
                         ["/dev/gpuctl", "/dev/gpu1"])

    def test_skip_runtime_handler_patterns(self):
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})
        p = self.start_for(extra="skip-runtime-handler = gvisor\nskip-runtime-handler = runsc-*\n")
        self.assertEmptyAdjustment(self.create(p, config, pod=nh.pod(runtime_handler="gvisor")))
        self.assertEmptyAdjustment(self.create(p, config, pod=nh.pod(runtime_handler="runsc-kvm")))
        r = self.create(p, config, pod=nh.pod(runtime_handler="kata-qemu"))  # kata* replaced by the list
        self.assertEqual(len(r.parse(nh.api.CreateContainerResponse).adjust.linux.devices), 2)

    def test_decision_lines(self):
        p = self.start_for()
        self.create(p, oci_config({"cdi.k8s.io/c": KIND + "=0," + KIND + "=1"}), pod=nh.pod(name="web"), name="app")
        self.wait_for_log("default/web/app: injected vendor.example/gpu=0, vendor.example/gpu=1 from %s/gpu.json"
                          % self.spec_dir)


class Modes(Base):
    def names_and_edits(self, r):
        adjust = r.parse(nh.api.CreateContainerResponse).adjust
        return [d.name for d in adjust.CDI_devices], len(adjust.linux.devices) + len(adjust.env)

    def test_reference_and_auto(self):
        config = oci_config({"cdi.k8s.io/c": KIND + "=0," + KIND + "=1"})
        cases = [
            ("reference", ("v2", "v2.1.0"), True),
            ("reference", ("cri-o", "1.34.0"), True),
            ("auto", ("v2", "2.2.0"), True),
            ("auto", ("v2", "2.0.3"), False),
            ("auto", ("containerd", "v1.7.30"), False),
            ("auto", ("cri-o", "1.33.0"), False),
            ("raw", ("v2", "2.3.0"), False),
        ]
        for mode, (name, version), references in cases:
            with self.subTest(mode=mode, runtime=name, version=version):
                p = self.start_for(version, name, extra="cdi-mode = %s\n" % mode)
                r = self.create(p, config)
                self.assertEqual(r.code, nh.OK, r)
                names, edits = self.names_and_edits(r)
                if references:
                    self.assertEqual(names, [KIND + "=0", KIND + "=1"])
                    self.assertEqual(edits, 0, "never both forms for one device")
                else:
                    self.assertEqual(names, [])
                    self.assertGreater(edits, 0)
                p.kill()

    def test_reference_still_fails_an_unresolvable_device(self):
        p = self.start_for("2.1.0", extra="cdi-mode = reference\n")
        r = self.create(p, oci_config({"cdi.k8s.io/c": KIND + "=9"}))
        self.assertNotEqual(r.code, nh.OK)
        self.assertIn('unresolvable CDI device "vendor.example/gpu=9"', r.message)


class Freshness(Base):
    def test_a_spec_written_300_ms_after_the_request_arrives(self):
        os.unlink(os.path.join(self.spec_dir, "gpu.json"))
        p = self.start_for()
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})
        timer = threading.Timer(0.3, lambda: self.write_spec("gpu.json", self.gpu_spec()))
        start = time.monotonic()
        timer.start()
        try:
            r = self.create(p, config)
        finally:
            timer.join()
        elapsed = time.monotonic() - start
        self.assertEqual(r.code, nh.OK, r)
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 0.9, "answered when the spec came, not at the end of the wait")
        self.assertIn("/dev/gpu0", [d.path for d in r.parse(nh.api.CreateContainerResponse).adjust.linux.devices])

    def test_a_spec_never_written_fails_within_the_wait(self):
        p = self.start_for()
        start = time.monotonic()
        r = self.create(p, oci_config({"cdi.k8s.io/c": "late.example/dev=1"}))
        elapsed = time.monotonic() - start
        self.assertNotEqual(r.code, nh.OK)
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 1.9)

    def test_the_wait_stays_below_the_request_timeout(self):
        p = self.start(timeout=1.0)
        p.runtime.register()
        self.assertEqual(p.runtime.configure(self.config_text("wait = 10\n"), request_timeout_ms=1000).code, nh.OK)
        self.wait_for_log("request timeout 1000 ms, wait up to 500 ms")
        start = time.monotonic()
        r = self.create(p, oci_config({"cdi.k8s.io/c": "late.example/dev=1"}))  # the harness checks 1 s
        self.assertNotEqual(r.code, nh.OK)
        self.assertLess(time.monotonic() - start, 1.0)

    def test_a_spec_changed_between_two_requests_is_seen(self):
        p = self.start_for()
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})

        def driver():
            r = self.create(p, config)
            env = {kv.key: kv.value for kv in r.parse(nh.api.CreateContainerResponse).adjust.env}
            return env["GPU_DRIVER"]

        self.assertEqual(driver(), "1")
        self.write_spec("gpu.json", self.gpu_spec(marker="2"))  # renamed over the old file
        self.assertEqual(driver(), "2")
        with open(os.path.join(self.spec_dir, "gpu.json"), "w") as f:  # rewritten in place
            f.write(self.gpu_spec(marker="3"))
        self.assertEqual(driver(), "3")
        os.unlink(os.path.join(self.spec_dir, "gpu.json"))
        r = self.create(p, config)
        self.assertNotEqual(r.code, nh.OK)

    def test_a_host_node_changed_between_two_requests_is_seen(self):
        # The plugin keeps the host nodes' stats between requests (inotify on every dir on the way, and
        # the mount table): each change below must show in the very next answer.
        p = self.start_for()
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})
        node = os.path.join(self.dev, "gpu0")

        def gpu0():
            r = self.create(p, config)
            self.assertEqual(r.code, nh.OK, r)
            d = [d for d in r.parse(nh.api.CreateContainerResponse).adjust.linux.devices if d.path == "/dev/gpu0"]
            self.assertEqual(len(d), 1)
            return (d[0].type, d[0].major, d[0].minor, d[0].file_mode.value)

        self.assertEqual(gpu0(), ("c", 240, 0, 0o666))
        self.assertEqual(gpu0(), ("c", 240, 0, 0o666))
        os.chmod(node, 0o640)
        self.assertEqual(gpu0(), ("c", 240, 0, 0o640))
        os.unlink(node)
        nritest.mknod_char(node, 241, 5, 0o600)
        self.assertEqual(gpu0(), ("c", 241, 5, 0o600))
        os.rename(node, node + ".new")  # renamed over by a block node
        os.mknod(node + ".tmp", 0o644 | 0o060000, os.makedev(7, 9))
        os.rename(node + ".tmp", node)
        self.assertEqual(gpu0(), ("b", 7, 9, 0o644))
        os.rename(self.dev, self.dev + ".old")  # the dir on the way replaced
        os.mkdir(self.dev)
        nritest.mknod_char(node, 242, 3, 0o606)
        nritest.mknod_char(os.path.join(self.dev, "ctl"), 240, 255, 0o666)  # the spec-level node
        self.assertEqual(gpu0(), ("c", 242, 3, 0o606))
        os.unlink(node)
        r = self.create(p, config)
        self.assertNotEqual(r.code, nh.OK, "the node is gone")
        self.assertIn("gpu0", r.message)

    def test_renamed_made_insecure_and_symlinked_specs(self):
        p = self.start_for()
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})
        spec = os.path.join(self.spec_dir, "gpu.json")
        self.assertEqual(self.create(p, config).code, nh.OK)
        os.rename(spec, os.path.join(self.spec_dir, "gpu-renamed.json"))
        self.assertEqual(self.create(p, config).code, nh.OK)
        os.rename(os.path.join(self.spec_dir, "gpu-renamed.json"), spec + ".bak")
        self.assertNotEqual(self.create(p, config).code, nh.OK, "renamed away: gone")
        os.rename(spec + ".bak", spec)
        self.assertEqual(self.create(p, config).code, nh.OK)
        os.chmod(spec, 0o666)  # anyone may write it now: ignored
        r = self.create(p, config)
        self.assertNotEqual(r.code, nh.OK)
        os.chmod(spec, 0o644)
        self.assertEqual(self.create(p, config).code, nh.OK)
        # A spec dir entry linking to a file elsewhere: the target changes without an event in the dir.
        # (Its target is judged by every dir on its way: /tmp is writable by all, /run is root's.)
        target_dir = tempfile.mkdtemp(prefix="cdi-nri-vendor-", dir="/run")
        os.chmod(target_dir, 0o755)
        self.addCleanup(shutil.rmtree, target_dir, True)
        target = os.path.join(target_dir, "gpu.json")
        with open(target, "w") as f:
            f.write(self.gpu_spec(marker="link-1"))
        os.chmod(target, 0o644)
        os.unlink(spec)
        os.symlink(target, spec)

        def driver():
            r = self.create(p, config)
            self.assertEqual(r.code, nh.OK, r)
            return {kv.key: kv.value for kv in r.parse(nh.api.CreateContainerResponse).adjust.env}["GPU_DRIVER"]

        self.assertEqual(driver(), "link-1")
        with open(target + ".tmp", "w") as f:
            f.write(self.gpu_spec(marker="link-2"))
        os.chmod(target + ".tmp", 0o644)
        os.rename(target + ".tmp", target)
        self.assertEqual(driver(), "link-2")

    def test_an_unchanged_node_reads_no_spec_file_per_request(self):
        # A spec of about 400 KB: read per request, 100 requests would read 40 MB. What the plugin reads
        # with read(2) (/proc/PID/io rchar: files and inotify; it takes requests with recv) stays small.
        extra = {"pad%d" % i: {"env": ["PAD_%d=%s" % (i, "p" * 200)]} for i in range(1500)}
        big = json.loads(self.gpu_spec())
        big["devices"] += [{"name": n, "containerEdits": e} for n, e in extra.items()]
        self.write_spec("gpu.json", big)
        self.assertGreater(os.path.getsize(os.path.join(self.spec_dir, "gpu.json")), 300 * 1024)
        p = self.start_for(extra="log-level = warning\n")
        config = oci_config({"cdi.k8s.io/c": KIND + "=0"})

        def rchar():
            with open("/proc/%d/io" % p.pid) as f:
                return int(dict(line.split(": ") for line in f.read().splitlines())["rchar"])

        self.assertEqual(self.create(p, config).code, nh.OK)
        before = rchar()
        for _ in range(100):
            self.assertEqual(self.create(p, config).code, nh.OK)
        read = rchar() - before
        self.assertLess(read, 64 * 1024, "%d bytes read for 100 requests" % read)

    @unittest.skipIf(os.environ.get("CDIHOOK_SANITIZED"),
                     "RSS under AddressSanitizer is its quarantine and shadow memory; run in the release build")
    def test_ten_thousand_requests_no_growth(self):
        # Beside 200 specs of other kinds (about 30 KB each), which the plugin must not keep parsed.
        for i in range(200):
            devices = {"d%d" % j: {"env": ["UNRELATED_%d_%d=%s" % (i, j, "x" * 40)],
                                   "mounts": [{"hostPath": "/srv/u%d/%d" % (i, j), "containerPath": "/u/%d" % j}]}
                       for j in range(150)}
            self.write_spec("unrelated-%03d.json" % i, spec_text(devices, kind="unrelated%d.example/dev" % i))
        p = self.start_for(extra="log-level = warning\n")
        config = oci_config({"cdi.k8s.io/c": KIND + "=0," + KIND + "=1"})
        request = nh.api.CreateContainerRequest(pod=nh.pod(), container=ra.container_from_config(config))
        payload = request.SerializeToString()
        rt = p.runtime

        def burst(n):
            for _ in range(n):
                r = rt.call("CreateContainer", None, raw_payload=payload)
                if r.code != nh.OK:
                    self.fail(r)

        burst(500)
        warm = p.rss_kib()
        burst(10000)
        end = p.rss_kib()
        self.assertLessEqual(end - warm, 64, "RSS grew from %d to %d KiB over 10,000 requests" % (warm, end))
        self.assertLessEqual(end, 8 * 1024)


if __name__ == "__main__":
    unittest.main()

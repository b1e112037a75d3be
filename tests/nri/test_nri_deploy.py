"""The files in deploy/, each tried the way an operator uses it: the DaemonSet's arguments and probes run
against the harness, the image built with podman from the Containerfile and run over a bind-mounted
socket dir, the conf.d file handed over by Configure, the external config file, the systemd unit
checked by systemd-analyze, the runtime snippets parsed as TOML."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import tomllib
import unittest
import uuid

import yaml

import harness as nh
import nritest

DEPLOY = os.path.join(nh.REPO_ROOT, "deploy")


def deploy_file(*parts):
    return os.path.join(DEPLOY, *parts)


def is_static(path):
    """True if the ELF file has no program interpreter (a PT_INTERP segment)."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head[:4] != b"\x7fELF":
        return False
    import struct
    phoff = struct.unpack_from("<Q", head, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
    for i in range(phnum):
        (p_type,) = struct.unpack_from("<I", head, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


class DaemonSet(nritest.TestCase):
    def load(self):
        with open(deploy_file("daemonset.yaml")) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        self.assertEqual(len(docs), 1)
        return docs[0]

    def test_manifest_has_what_the_plugin_needs(self):
        ds = self.load()
        self.assertEqual((ds["apiVersion"], ds["kind"]), ("apps/v1", "DaemonSet"))
        pod = ds["spec"]["template"]["spec"]
        self.assertEqual(ds["spec"]["selector"]["matchLabels"], ds["spec"]["template"]["metadata"]["labels"])
        self.assertEqual(pod["priorityClassName"], "system-node-critical")
        self.assertIn({"operator": "Exists"}, pod["tolerations"], "tolerates every taint")
        (c,) = pod["containers"]
        args = c["args"]
        self.assertIn("--socket=/var/run/nri/nri.sock", args)
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        host = {path: volumes[m["name"]]["hostPath"]["path"] for path, m in mounts.items()
                if "hostPath" in volumes[m["name"]]}
        # The socket's dir is mounted (the runtime recreates the socket), read-write to connect.
        self.assertEqual(host["/var/run/nri"], "/var/run/nri")
        self.assertFalse(mounts["/var/run/nri"].get("readOnly", False))
        # Every spec dir the plugin is told to read is mounted from the host, read-only; so is /dev.
        spec_dirs = [a.split("=", 1)[1] for a in args if a.startswith("--spec-dir=")]
        self.assertEqual(spec_dirs, ["/etc/cdi", "/var/run/cdi"])
        for d in spec_dirs + ["/dev"]:
            self.assertEqual(host[d], d)
            self.assertTrue(mounts[d]["readOnly"], d)
        # The health file the plugin writes is where both probes look, on a writable volume.
        health = [a.split("=", 1)[1] for a in args if a.startswith("--health-file=")][0]
        self.assertIn(os.path.dirname(health), mounts)
        self.assertIn("emptyDir", volumes[mounts[os.path.dirname(health)]["name"]])
        for probe in ("livenessProbe", "readinessProbe"):
            command = c[probe]["exec"]["command"]
            self.assertEqual(command[:2], ["/cdi-hook-nri", "health"])
            self.assertIn("--health-file=" + health, command)
        sc = c["securityContext"]
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertIn("memory", c["resources"]["limits"])
        self.assertIn("cpu", c["resources"]["requests"])

    def test_its_arguments_and_probes_work_against_the_harness(self):
        c = self.load()["spec"]["template"]["spec"]["containers"][0]
        sock = os.path.join(self.tmp, "nri", "nri.sock")
        os.mkdir(os.path.dirname(sock), 0o700)
        health = os.path.join(self.tmp, "health")

        def local(arg):
            return (arg.replace("/var/run/nri/nri.sock", sock).replace("/run/cdi-hook-nri/health", health)
                    .replace("=/etc/cdi", "=" + self.spec_dir).replace("=/var/run/cdi", "=" + self.spec_dir))

        args = [local(a) for a in c["args"]]
        listener = nh.Listener(sock)
        try:
            plugin = nh.External(sock, args[1:] if args[0].startswith("--socket") else args)
            self.plugins.append(plugin)
            rt = listener.accept()
            rt.handshake()
            self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))

            def probe(name):
                command = [local(a) for a in c[name]["exec"]["command"]]
                command[0] = nh.binary()
                return subprocess.run(command, capture_output=True, text=True, timeout=10)

            deadline = time.monotonic() + 5
            while probe("readinessProbe").returncode != 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(probe("readinessProbe").returncode, 0, probe("readinessProbe"))
            self.assertEqual(probe("livenessProbe").returncode, 0, probe("livenessProbe"))
            # A loop that stopped rewriting the file fails liveness.
            plugin.proc.send_signal(19)  # SIGSTOP: the plugin is stuck
            try:
                old = time.time() - 120
                os.utime(health, (old, old))
                r = probe("livenessProbe")
                self.assertEqual(r.returncode, 1, r)
                self.assertIn("the plugin is stuck", r.stderr)
            finally:
                plugin.proc.send_signal(18)  # SIGCONT
            rt.close()
        finally:
            listener.close()


class Image(nritest.TestCase):
    @unittest.skipIf(os.environ.get("CDIHOOK_SANITIZED"),
                     "the FROM scratch image needs the static binary; run in the release build")
    def test_built_with_podman_and_run_over_a_bind_mounted_socket_dir(self):
        podman = shutil.which("podman")
        self.assertIsNotNone(podman, "podman is required (scripts/install-deps.sh installs it)")
        binary = nh.binary()
        self.assertTrue(is_static(binary), "the image needs the static build of cdi-hook-nri (release preset)")
        context = os.path.join(self.tmp, "context")
        os.mkdir(context)
        shutil.copy2(binary, os.path.join(context, "cdi-hook-nri"))
        tag = "localhost/cdi-hook-nri-test:" + uuid.uuid4().hex[:12]
        # Private storage, as tests/e2e/test_podman.py: neither the host's images nor other tests are touched.
        store = os.path.join(self.tmp, "podman")
        os.mkdir(store, 0o700)
        podman = [podman, "--root", os.path.join(store, "root"), "--runroot", os.path.join(store, "runroot"),
                  "--tmpdir", os.path.join(store, "tmp"), "--storage-driver", "vfs", "--events-backend", "none"]
        build = subprocess.run(podman + ["build", "--network", "none", "-f", deploy_file("Containerfile"), "-t", tag,
                                         context], capture_output=True, text=True, timeout=300)
        self.assertEqual(build.returncode, 0, build.stderr)
        sock_dir = os.path.join(self.tmp, "run-nri")
        os.mkdir(sock_dir, 0o700)
        listener = nh.Listener(os.path.join(sock_dir, "nri.sock"))
        name = "cdi-hook-nri-test-" + uuid.uuid4().hex[:8]
        try:
            run = subprocess.run(podman + ["run", "-d", "--name", name, "--network", "none", "--runtime", "runc",
                                           "--cgroup-manager", "cgroupfs", "--ulimit", "nofile=1024:1024",
                                           "--ulimit", "nproc=1024:1024",
                                           "-v", sock_dir + ":/var/run/nri", "-v", self.spec_dir + ":/etc/cdi:ro", tag,
                                           "--socket", "/var/run/nri/nri.sock", "--spec-dir", "/etc/cdi",
                                           "--log-level", "debug"], capture_output=True, text=True, timeout=120)
            self.assertEqual(run.returncode, 0, run.stderr)
            rt = listener.accept(timeout=60)
            reg = rt.handshake()
            self.assertEqual((reg.plugin_name, reg.plugin_idx), ("cdi-hook", "10"))
            self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))
            rt.close()
            rt = listener.accept(timeout=30)  # it reconnects when the "runtime" comes back
            rt.handshake()
            rt.close()
            logs = subprocess.run(podman + ["logs", name], capture_output=True, text=True, timeout=60)
            self.assertIn("registered as 10-cdi-hook", logs.stdout + logs.stderr)
        finally:
            listener.close()
            # Removed here, before tearDown deletes the storage: podman must still find the container to
            # unmount its /dev/shm, or that mount stays on the host and the temp dir with it.
            subprocess.run(podman + ["rm", "-f", "-t", "0", name], capture_output=True, timeout=120)


class ConfigFiles(nritest.TestCase):
    def test_the_conf_d_file_is_accepted_by_configure(self):
        with open(deploy_file("nri-conf.d", "10-cdi-hook.conf")) as f:
            text = f.read()
        text = text.replace("/var/log/cdi-hook-nri.log", self.log_path)
        text = re.sub(r"^spec-dir = .*$", "spec-dir = " + self.spec_dir, text, flags=re.M)
        p = self.start()
        p.runtime.register()
        r = p.runtime.configure(text)
        self.assertEqual(r.code, nh.OK, r)
        self.wait_for_log("cdi-mode raw: answering with raw edits")

    def test_check_says_what_configure_would_make_of_a_conf_d_file(self):
        """`cdi-hook-nri check CONF` on the shipped conf.d file (its paths moved to the test's dirs):
        accepted, with the test spec's devices; then a key the runtime sets, refused with Configure's
        message and exit 1."""
        with open(deploy_file("nri-conf.d", "10-cdi-hook.conf")) as f:
            text = f.read()
        text = text.replace("/var/log/cdi-hook-nri.log", self.log_path)
        text = re.sub(r"^spec-dir = .*$", "spec-dir = " + self.spec_dir, text, count=1, flags=re.M)
        text = re.sub(r"^spec-dir = /var/run/cdi$", "spec-dir = " + os.path.join(self.tmp, "absent"), text,
                      flags=re.M)
        conf = os.path.join(self.tmp, "10-cdi-hook.conf")
        with open(conf, "w") as f:
            f.write(text)
        self.write_spec("gpu.yaml", "cdiVersion: 0.6.0\nkind: vendor.example/gpu\ndevices:\n- name: '0'\n"
                                    "  containerEdits:\n    env: [GPU=0]\n")
        r = subprocess.run([nh.binary(), "check", conf], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(conf + ": accepted, as the runtime's Configure would take it", r.stdout)
        self.assertIn("cdi-mode raw, wait 1000 ms", r.stdout)
        self.assertIn("spec dir %s: not there" % os.path.join(self.tmp, "absent"), r.stdout)
        self.assertIn("devices (1): vendor.example/gpu=0\n", r.stdout)
        self.assertIn("problems: none", r.stdout)
        self.assertFalse(os.path.exists(self.log_path), "check opened the log file")

        with open(conf, "a") as f:
            f.write("socket = /run/elsewhere.sock\n")
        r = subprocess.run([nh.binary(), "check", conf], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r'^refused: %s:\d+: option "socket" is set by the runtime' % re.escape(conf))

    def test_the_external_config_file_starts_the_plugin(self):
        sock = os.path.join(self.tmp, "nri.sock")
        health = os.path.join(self.tmp, "health")
        listener = nh.Listener(sock)
        try:
            plugin = nh.External(sock, ["--config", deploy_file("cdi-hook-nri.conf"), "--health-file", health,
                                        "--spec-dir", self.spec_dir], stderr_path=os.path.join(self.tmp, "err"))
            self.plugins.append(plugin)
            rt = listener.accept()
            reg = rt.handshake()
            self.assertEqual((reg.plugin_name, reg.plugin_idx), ("cdi-hook", "10"))
            def state():
                try:
                    with open(health) as f:
                        return f.read()
                except FileNotFoundError:
                    return ""

            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and state() != "registered\n":
                time.sleep(0.05)
            self.assertEqual(state(), "registered\n")
            rt.close()
        finally:
            listener.close()

    def test_systemd_unit_verifies(self):
        analyze = shutil.which("systemd-analyze")
        self.assertIsNotNone(analyze, "systemd-analyze is required (scripts/install-deps.sh installs systemd)")
        with open(deploy_file("cdi-hook-nri.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/local/bin/cdi-hook-nri --config /etc/cdi-hook/nri.conf", unit)
        self.assertIn("Restart=always", unit)
        self.assertRegex(unit, r"After=.*containerd\.service")
        path = os.path.join(self.tmp, "cdi-hook-nri.service")
        with open(path, "w") as f:
            f.write(unit.replace("/usr/local/bin/cdi-hook-nri", nh.binary()))
        r = subprocess.run([analyze, "verify", path], capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stderr.strip()), (0, ""), r)

    def test_runtime_snippets_parse_and_enable_nri(self):
        def load(name):
            with open(deploy_file(name), "rb") as f:
                return tomllib.load(f)

        for name in ("containerd-1.7-nri.toml", "containerd-2-nri.toml"):
            nri = load(name)["plugins"]["io.containerd.nri.v1.nri"]
            self.assertIs(nri["disable"], False, name)
            self.assertIs(nri["disable_connections"], False, name)
            self.assertEqual(nri["socket_path"], "/var/run/nri/nri.sock", name)
            self.assertEqual(nri["plugin_path"], "/opt/nri/plugins", name)
            self.assertEqual(nri["plugin_config_path"], "/etc/nri/conf.d", name)
        crio = load("crio-nri.conf")["crio"]["nri"]
        self.assertIs(crio["enable_nri"], True)
        self.assertEqual(crio["nri_listen"], "/var/run/nri/nri.sock")
        self.assertIs(crio["nri_disable_connections"], False)


if __name__ == "__main__":
    unittest.main()

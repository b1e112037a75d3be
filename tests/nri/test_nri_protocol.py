"""The NRI protocol end to end: cdi-hook-nri started as the runtime starts it, driven by the harness.

Every byte the plugin sends passes the harness's checks (frames of at most 4096 bytes, odd and
increasing stream ids, replies within the timeout); these tests add the call order and the answers.
"""

import os
import re
import socket
import subprocess
import time
import unittest

import harness as nh
import nritest

SPLITS = [("whole", 0), ("1", 0), ("7", 0), ("random", 1), ("random", 2), ("random", 3)]


class Handshake(nritest.TestCase):
    def test_full_sequence_whatever_the_frame_splits(self):
        for split, seed in SPLITS:
            with self.subTest(split=split, seed=seed):
                p = self.start(split=split, seed=seed)
                rt = p.runtime
                reg = rt.register()
                self.assertEqual((reg.plugin_name, reg.plugin_idx), ("cdi-hook", "10"))
                r = rt.configure(self.config_text())
                self.assertEqual(r.code, nh.OK, r)
                self.assertEqual(r.parse(nh.api.ConfigureResponse).events, nh.CREATE_CONTAINER_MASK)
                s = rt.synchronize(pods=[nh.pod()], containers=[nh.container()])
                self.assertEqual(s.code, nh.OK, s)
                self.assertFalse(s.parse(nh.api.SynchronizeResponse).more)
                self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))
                e = rt.call("StateChange", nh.api.StateChangeEvent(event=6, pod=nh.pod(), container=nh.container()))
                self.assertEqual((e.code, e.payload), (nh.OK, b""))
                self.assertEqual(rt.plugin_streams, [1], "one call of its own: RegisterPlugin on stream 1")
                rt.close()
                self.assertEqual(p.wait(), 0, "a pre-registered plugin exits 0 on EOF")

    def test_identity_from_the_environment_under_any_file_name(self):
        p = self.start(name="gpu-injector", idx="42", argv0="/opt/nri/plugins/42-gpu-injector")
        reg = p.runtime.register()
        self.assertEqual((reg.plugin_name, reg.plugin_idx), ("gpu-injector", "42"))
        p2 = self.start(name="x", idx="07", argv0="/opt/nri/plugins/07-x")
        self.assertEqual(p2.runtime.register().plugin_name, "x")

    def test_environment_has_only_the_three_variables(self):
        # No PATH, no HOME: the plugin must not need them (it starts, registers and answers).
        p = self.start(env={"NRI_PLUGIN_SOCKET": "3", "NRI_PLUGIN_NAME": "cdi", "NRI_PLUGIN_IDX": "50"})
        p.runtime.handshake(self.config_text())
        self.assertEmptyAdjustment(p.runtime.create_container(nh.pod(), nh.container()))

    def test_configure_before_the_register_reply(self):
        p = self.start()
        rt = p.runtime
        stream, reg = rt.expect_request("RegisterPlugin")
        r = rt.configure(self.config_text())  # the runtime answers Configure first...
        self.assertEqual(r.code, nh.OK, r)
        rt.reply(stream, nh.api.Empty().SerializeToString())  # ...and RegisterPlugin after
        self.assertEqual(rt.synchronize().code, nh.OK)
        self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))
        self.wait_for_log("registered as 10-cdi-hook")

    def test_split_synchronize_echoes_more_with_no_updates(self):
        p = self.start(split="7")
        rt = p.runtime
        rt.register()
        self.assertEqual(rt.configure(self.config_text()).code, nh.OK)
        containers = [nh.container(name="c%d" % i, id="id%d" % i) for i in range(300)]
        for chunk, more in ((containers[:100], True), (containers[100:200], True), (containers[200:], False)):
            r = rt.synchronize(pods=[nh.pod()], containers=chunk, more=more)
            self.assertEqual(r.code, nh.OK, r)
            response = r.parse(nh.api.SynchronizeResponse)
            self.assertEqual(response.more, more)
            self.assertEqual(r.payload, b"\x10\x01" if more else b"", "no updates, only `more`")

    def test_unknown_method_and_service_are_unimplemented(self):
        p = self.start_ready()
        rt = p.runtime
        for method in ("UpdateContainer", "StopContainer", "RunPodSandbox", "PostStartContainer", "Bogus"):
            r = rt.call(method, nh.api.Empty())
            self.assertEqual((r.code, r.message), (nh.UNIMPLEMENTED, "method " + method))
        r = rt.call("Configure", nh.api.Empty(), service="example.Other")
        self.assertEqual((r.code, r.message), (nh.UNIMPLEMENTED, "service example.Other"))
        self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))

    def test_zero_timeouts(self):
        p = self.start()
        rt = p.runtime
        rt.register()
        r = rt.call("Configure", nh.api.ConfigureRequest(config=self.config_text(), runtime_name="containerd",
                                                         runtime_version="1.7.0"))
        self.assertEqual(r.code, nh.OK, r)
        # containerd 1.7.0-1.7.25 (NRI v0.6) send no timeout: the log says the default is assumed, since a
        # lower plugin_request_timeout there needs a lower `wait` (a late reply loses the devices).
        self.wait_for_log("request timeout 2000 ms (not sent by the runtime: its default assumed), wait up to 1000 ms")
        self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))

    def test_garbage_payload_is_invalid_argument_and_the_plugin_stays(self):
        p = self.start_ready()
        rt = p.runtime
        r = rt.call("CreateContainer", None, raw_payload=b"\xff\xff\xff\xff")
        self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
        self.assertIn("CreateContainerRequest does not parse", r.message)
        self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))

    def test_shutdown_ends_a_pre_registered_plugin_with_0(self):
        p = self.start_ready()
        r = p.runtime.call("Shutdown", nh.api.Empty())
        self.assertEqual(r.code, nh.OK)
        self.assertEqual(p.wait(), 0)

    def test_eof_before_anything_exits_0(self):
        p = self.start()
        p.runtime.expect_request("RegisterPlugin")
        p.runtime.close()
        self.assertEqual(p.wait(), 0)


class Syslog(nritest.TestCase):
    """The plugin in a mount namespace of its own whose /dev/log is the test's datagram socket: what a
    pre-registered plugin (stdout and stderr on /dev/null, no log-file yet) writes to syslog arrives there."""

    def start_logging_to_syslog(self):
        log_sock = os.path.join(self.tmp, "log")
        self.syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.syslog.bind(log_sock)
        self.addCleanup(self.syslog.close)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        script = ("/usr/bin/mount -t tmpfs none /dev && : > /dev/log && /usr/bin/mount --bind %s /dev/log && "
                  "exec %s" % (log_sock, nh.binary()))
        env = {"NRI_PLUGIN_SOCKET": "3", "NRI_PLUGIN_NAME": "cdi-hook", "NRI_PLUGIN_IDX": "10"}
        proc = subprocess.Popen(["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, pass_fds=[3], preexec_fn=lambda: os.dup2(theirs.fileno(), 3))
        theirs.close()
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc, nh.Runtime(ours)

    def syslog_text(self):
        self.syslog.settimeout(0)
        lines = []
        while True:
            try:
                lines.append(self.syslog.recv(65536).decode(errors="replace"))
            except BlockingIOError:
                return "\n".join(lines)

    def test_pre_registered_logs_to_syslog_without_a_log_file(self):
        proc, rt = self.start_logging_to_syslog()
        rt.handshake("spec-dir = %s\nwait = 0\n" % self.spec_dir)
        r = rt.create_container(nh.pod(), nh.container(annotations={"cdi.k8s.io/x": "vendor.example/gpu=0"}))
        self.assertNotEqual(r.code, nh.OK, r)
        rt.close()
        self.assertEqual(proc.wait(10), 0)
        text = self.syslog_text()
        self.assertRegex(text, r"cdi-hook-nri\[\d+\]: started by the runtime as 10-cdi-hook on fd 3", text)
        self.assertIn('default/pod/ctr: cdi-hook: unresolvable CDI device "vendor.example/gpu=0"', text)

    def test_an_unknown_key_is_a_line_in_the_log(self):
        proc, rt = self.start_logging_to_syslog()
        rt.register()
        r = rt.configure("wait = 0\nbogus = 1\n")
        self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
        self.assertEqual(proc.wait(10), 1)
        rt.close()
        # <27>: LOG_DAEMON | LOG_ERR.
        self.assertRegex(self.syslog_text(), r"<27>.* cdi-hook-nri\[\d+\]: configuration refused: the runtime's "
                                             r'config for 10-cdi-hook:2: unknown option "bogus"')


class LargeMessages(nritest.TestCase):
    def test_create_container_over_64_kib(self):
        for split, seed in SPLITS:
            with self.subTest(split=split, seed=seed):
                p = self.start_ready(split=split, seed=seed)
                env = ["VAR_%05d=%s" % (i, "v" * 40) for i in range(1500)]
                mounts = [nh.api.Mount(destination="/data/%d" % i, source="/srv/%d" % i, type="bind",
                                       options=["rbind", "ro"]) for i in range(400)]
                c = nh.container(env=env, mounts=mounts)
                request = nh.api.CreateContainerRequest(pod=nh.pod(), container=c)
                self.assertGreater(request.ByteSize(), 64 * 1024)
                self.assertEmptyAdjustment(p.runtime.create_container(nh.pod(), c))

    def test_a_reply_over_4096_bytes_goes_out_in_frames_of_at_most_4096(self):
        p = self.start_ready()
        bad = "vendor.example/gpu=" + "x" * 9000 + "!"
        r = p.runtime.create_container(nh.pod(), nh.container(annotations={"cdi.k8s.io/big": bad}))
        self.assertNotEqual(r.code, nh.OK)
        self.assertGreater(len(r.message), 9000)
        self.assertGreater(max(p.runtime.plugin_frames), 4000)
        self.assertLessEqual(max(p.runtime.plugin_frames), nh.MAX_FRAME)

    def test_pipelined_replies_beyond_the_socket_buffer_arrive_whole(self):
        # The runtime sends every call before it reads a reply, so the plugin's
        # replies pile up in the socket and in its queue. The error quotes the
        # name twice: names of up to 30000 characters give replies of up to
        # 64 KiB, which go out in one sendmsg when nothing is queued; the
        # 100000 ones go through the queue, and the ones after them too.
        p = self.start_ready()
        sizes = [30000, 25000, 1500, 30000, 20000, 30000, 50, 30000, 25000, 100000, 2500, 30000] * 2
        calls = []
        for i, n in enumerate(sizes):
            bad = "vendor.example/gpu=" + chr(ord("a") + i % 26) * n + "!"
            request = nh.api.CreateContainerRequest(pod=nh.pod(), container=nh.container(
                annotations={"cdi.k8s.io/big": bad}))
            calls.append((p.runtime.send_request("CreateContainer", request), bad))
        for stream, bad in calls:
            r = p.runtime.wait_reply(stream, timeout=30)
            self.assertNotEqual(r.code, nh.OK)
            self.assertIn(bad[:-1], r.message)
        self.assertLessEqual(max(p.runtime.plugin_frames), nh.MAX_FRAME)


class Config(nritest.TestCase):
    def test_unknown_key_fails_configure_with_a_clear_line(self):
        p = self.start()
        rt = p.runtime
        rt.register()
        r = rt.configure(self.config_text("spec-dirs = /etc/cdi\n"))
        self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
        self.assertEqual(r.message, 'cdi-hook: the runtime\'s config for 10-cdi-hook:4: unknown option "spec-dirs"')
        self.assertEqual(p.wait(), 1)

    def test_external_only_key_is_refused_in_the_runtime_config(self):
        p = self.start()
        rt = p.runtime
        rt.register()
        r = rt.configure("socket = /run/other.sock\n")
        self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
        self.assertIn('option "socket" is set by the runtime for a pre-registered plugin', r.message)
        self.assertEqual(p.wait(), 1)

    def test_bad_value_names_the_key(self):
        p = self.start()
        p.runtime.register()
        r = p.runtime.configure("wait = soon\n")
        self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
        self.assertEqual(r.message, 'cdi-hook: the runtime\'s config for 10-cdi-hook:1: wait: invalid value "soon": '
                                    'expected seconds from 0 to 60')

    def test_log_goes_to_the_file_the_config_names(self):
        p = self.start_ready()
        self.wait_for_log("configured by runtime \"containerd\" \"v1.7.20\" drops CDI device names")


class CdiMode(nritest.TestCase):
    CASES = [
        # runtime name, version, honours CDI_devices (True / False / "enable_cdi")
        ("containerd", "v1.7.0", False),
        ("containerd", "v1.7.29", False),
        ("containerd", "1.7.30", "enable_cdi"),
        ("v2", "2.0.5", False),
        ("v2", "v2.1.0", True),
        ("v2", "2.2.0+unknown", True),
        ("cri-o", "1.33.2", False),
        ("cri-o", "1.34.0", True),
        ("other-runtime", "9.9.9", False),
    ]

    def configure(self, mode, name, version):
        p = self.start(runtime_name=name, runtime_version=version)
        p.runtime.register()
        return p, p.runtime.configure(self.config_text("cdi-mode = %s\n" % mode))

    def test_reference_is_refused_where_the_names_are_dropped(self):
        for name, version, honours in self.CASES:
            with self.subTest(runtime=name, version=version):
                p, r = self.configure("reference", name, version)
                if honours:
                    self.assertEqual(r.code, nh.OK, r)
                    self.assertEmptyAdjustment(p.runtime.create_container(nh.pod(), nh.container()))
                else:
                    self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
                    self.assertIn("drops CDI device names returned by NRI plugins", r.message)
                    self.assertIn("use cdi-mode raw or auto", r.message)
                    self.assertEqual(p.wait(), 1)

    def test_auto_and_raw_start_everywhere(self):
        for mode in ("auto", "raw"):
            for name, version, honours in self.CASES:
                with self.subTest(mode=mode, runtime=name, version=version):
                    p, r = self.configure(mode, name, version)
                    self.assertEqual(r.code, nh.OK, r)
                    expected = "CDI device names" if mode == "auto" and honours is True else "raw edits"
                    self.wait_for_log("cdi-mode %s: answering with %s" % (mode, expected))
                    p.kill()
                    os.unlink(self.log_path)


class Skips(nritest.TestCase):
    ANNOTATIONS = {"cdi.k8s.io/gpu": "nvidia.com/gpu=0"}

    def test_kata_pods_are_left_alone(self):
        p = self.start_ready()
        for handler in ("kata", "kata-qemu", "kata-fc"):
            r = p.runtime.create_container(nh.pod(runtime_handler=handler, name="kp"),
                                           nh.container(annotations=self.ANNOTATIONS, name="c"))
            self.assertEmptyAdjustment(r)
            self.wait_for_log('default/kp/c: not injected: runtime handler "%s" matches "kata*"' % handler)

    def test_pod_annotations_are_ignored_without_the_option(self):
        p = self.start_ready()
        r = p.runtime.create_container(nh.pod(annotations=self.ANNOTATIONS, name="pa"), nh.container(name="c"))
        self.assertEmptyAdjustment(r)
        self.wait_for_log("default/pa/c: not injected: only the pod has cdi.k8s.io/ annotations and "
                          "pod-annotations is off")

    def test_devices_the_runtime_injected_already_are_skipped(self):
        p = self.start_ready()
        c = nh.container(annotations=self.ANNOTATIONS, cdi_devices=["nvidia.com/gpu=0"], name="c")
        self.assertEmptyAdjustment(p.runtime.create_container(nh.pod(name="di"), c))
        self.wait_for_log("default/di/c: skipped nvidia.com/gpu=0: the runtime has already injected it")

    def test_no_annotations_means_no_spec_work(self):
        # A spec dir anyone may write: looking at it at all logs a warning. A container without CDI
        # annotations must not; one with them, afterwards, shows that the warning is what it looks like.
        os.chmod(self.spec_dir, 0o777)
        p = self.start_ready()
        for _ in range(3):
            self.assertEmptyAdjustment(p.runtime.create_container(nh.pod(), nh.container()))
        self.wait_for_log("default/pod/ctr: no cdi.k8s.io/ annotations")
        self.assertNotIn("spec dir: ", self.log())
        r = p.runtime.create_container(nh.pod(), nh.container(annotations=self.ANNOTATIONS))
        self.assertNotEqual(r.code, nh.OK, r)
        self.wait_for_log("ignoring spec dir: " + self.spec_dir)


class Errors(nritest.TestCase):
    def test_invalid_name_gives_the_hooks_error_line(self):
        p = self.start_ready()
        annotations = {"cdi.k8s.io/x": "nvidia.com/gpu=0,not-a-device"}
        r = p.runtime.create_container(nh.pod(), nh.container(annotations=annotations))
        self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
        config = {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
                  "annotations": annotations}
        hook = self.hook(["inject", "--config", "-", "--spec-dir", self.spec_dir, "--cache-dir", "none"], config)
        self.assertEqual(hook.returncode, 1, hook)
        # The hook names its config (here stdin); the plugin names the container.
        self.assertEqual(r.message, hook.stderr.decode().strip().replace("stdin:", "default/pod/ctr:", 1))


class External(nritest.TestCase):
    def test_connects_when_the_runtime_appears_and_again_after_it_restarts(self):
        path = os.path.join(self.tmp, "nri.sock")
        plugin = self.start_external(path, ["--spec-dir", self.spec_dir, "--name", "cdi-x", "--index", "33"])
        time.sleep(0.5)  # the runtime is not there yet: the plugin retries
        listener = nh.Listener(path)
        try:
            for round in range(3):
                rt = listener.accept()
                reg = rt.handshake()
                self.assertEqual((reg.plugin_name, reg.plugin_idx), ("cdi-x", "33"))
                self.assertEqual(rt.plugin_streams, [1], "stream ids start again at 1 on each connection")
                self.assertEmptyAdjustment(rt.create_container(nh.pod(), nh.container()))
                rt.close()  # containerd restarting: no Shutdown, the connection just closes
            self.assertIsNone(plugin.proc.poll(), "the external plugin keeps running")
        finally:
            listener.close()
        err = plugin.stderr()
        self.assertIn("the runtime closed the connection; reconnecting", err)
        # Before the runtime came: one line per attempt, each waiting twice as long as the one before.
        before = err.split("connected to " + path)[0]
        delays = [int(d) for d in re.findall(r"cannot reach the runtime: .*; retrying in (\d+) ms", before)]
        self.assertGreaterEqual(len(delays), 2, before)
        self.assertEqual(delays, [100 * 2 ** i for i in range(len(delays))], before)

    def test_reference_mode_refused_ends_an_external_plugin(self):
        path = os.path.join(self.tmp, "nri.sock")
        listener = nh.Listener(path)
        try:
            plugin = self.start_external(path, ["--cdi-mode", "reference"])
            rt = listener.accept(runtime_version="1.7.20")
            rt.register()
            r = rt.configure()
            self.assertEqual(r.code, nh.INVALID_ARGUMENT, r)
            self.assertEqual(plugin.proc.wait(5), 1)
        finally:
            listener.close()


if __name__ == "__main__":
    unittest.main()

"""The runtime side of NRI, written for the tests: it plays containerd (or CRI-O) against cdi-hook-nri.

Wire format (the same one the plugin implements in src/nri): one AF_UNIX stream carries an 8-byte mux
frame header (u32 BE connection id, u32 BE payload length) and the payload; connection 1 carries the
runtime's calls to the plugin (service nri.pkg.api.v1alpha1.Plugin), connection 2 the plugin's calls to
the runtime (nri.pkg.api.v1alpha1.Runtime). Each connection is a ttrpc byte stream of messages with a
10-byte header (u32 BE data length, u32 BE stream id, u8 type 1 request / 2 response, u8 flags) and a
protobuf Request or Response envelope. Messages are the project's own subset of NRI's API, compiled
here with protoc --python_out from src/nri/*.proto.

What the harness checks on every byte the plugin sends: each frame carries at most 4096 payload bytes
(the Go runtime drops a plugin that sends more), the plugin's own stream ids are odd and strictly
increasing, every reply echoes a stream id the harness used, and every reply arrives within the
request timeout.

Its own frames are split as a test asks: whole (one frame per message), at a fixed size (1 or 7
bytes), or at random sizes from a seeded generator; and they are written to the socket in pieces that
do not follow frame boundaries.
"""

import atexit
import importlib
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_DIR = os.path.join(REPO_ROOT, "src")

PLUGIN_CONN = 1
RUNTIME_CONN = 2
PLUGIN_SERVICE = "nri.pkg.api.v1alpha1.Plugin"
RUNTIME_SERVICE = "nri.pkg.api.v1alpha1.Runtime"
MAX_FRAME = 4096
REQUEST, RESPONSE = 1, 2
CREATE_CONTAINER_MASK = 0x8

OK, UNKNOWN, INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, UNIMPLEMENTED = 0, 2, 3, 5, 9, 12


def _load_protos():
    """Compiles the project's .proto files with protoc into a private dir and imports them."""
    out = os.environ.get("CDI_NRI_PROTO_OUT")
    if not out:
        out = tempfile.mkdtemp(prefix="cdi-nri-proto-")
        atexit.register(shutil.rmtree, out, True)
    os.makedirs(out, exist_ok=True)
    protoc = os.environ.get("PROTOC", "protoc")
    subprocess.run([protoc, "--python_out=" + out, "-I", PROTO_DIR, "nri/nri_api.proto", "nri/ttrpc.proto"],
                   check=True)
    if out not in sys.path:
        sys.path.insert(0, out)
    return importlib.import_module("nri.nri_api_pb2"), importlib.import_module("nri.ttrpc_pb2")


api, ttrpc = _load_protos()


def binary():
    path = os.environ.get("CDI_HOOK_NRI_BIN", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("CDI_HOOK_NRI_BIN=%r is not an executable file: point it at the built cdi-hook-nri" % path)
    return path


class ProtocolError(AssertionError):
    pass


class Splitter:
    """How the harness cuts its own byte stream: frame payload sizes and socket write sizes."""

    def __init__(self, mode="whole", seed=0):
        self.mode = mode
        self.rng = random.Random(seed)

    def frame_sizes(self, n):
        if self.mode == "whole":
            return [n]
        sizes = []
        while n > 0:
            if self.mode == "random":
                size = self.rng.choice([1, 2, 3, 7, 9, 64, 1000, 4096, 20000, 1 << 20])
            else:
                size = int(self.mode)
            size = min(size, n)
            sizes.append(size)
            n -= size
        return sizes

    def write_sizes(self, n):
        if self.mode == "whole":
            return [n]
        if self.mode == "random":
            out = []
            while n > 0:
                s = min(n, self.rng.randint(1, 5000))
                out.append(s)
                n -= s
            return out
        # Never aligned with the frames, and at most ~2000 writes a message (the harness's own speed).
        step = max(int(self.mode) * 3 + 1, n // 2000 + 1)
        return [min(step, n - i) for i in range(0, n, step)]


class Reply:
    def __init__(self, code, message, payload, elapsed):
        self.code, self.message, self.payload, self.elapsed = code, message, payload, elapsed

    def parse(self, cls):
        m = cls()
        m.ParseFromString(self.payload)
        return m

    def __repr__(self):
        return "Reply(code=%d, message=%r, %d payload bytes, %.3f s)" % (
            self.code, self.message, len(self.payload), self.elapsed)


class Runtime:
    """One connection to a plugin, from the runtime's side."""

    def __init__(self, sock, split="whole", seed=0, timeout=2.0, runtime_name="containerd",
                 runtime_version="v1.7.20"):
        self.sock = sock
        self.sock.setblocking(False)
        self.splitter = Splitter(split, seed)
        self.timeout = timeout
        self.runtime_name = runtime_name
        self.runtime_version = runtime_version
        self.rx = b""
        self.streams = {PLUGIN_CONN: b"", RUNTIME_CONN: b""}
        self.plugin_frames = []  # payload sizes of every frame the plugin sent
        self.requests = []       # (stream, service, method, payload) from the plugin, not yet taken
        self.replies = {}        # stream -> Reply
        self.sent_at = {}
        self.next_stream = 1
        self.plugin_streams = []
        self.eof = False

    # --- sending -------------------------------------------------------------------------------
    def _send_message(self, conn, stream, mtype, data):
        message = struct.pack(">IIBB", len(data), stream, mtype, 0) + data
        framed = b""
        at = 0
        for size in self.splitter.frame_sizes(len(message)):
            framed += struct.pack(">II", conn, size) + message[at:at + size]
            at += size
        at = 0
        for size in self.splitter.write_sizes(len(framed)):
            self._write_all(framed[at:at + size])
            at += size

    def _write_all(self, data):
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout + 5
        while view:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                self._pump(0.01)  # read while the plugin's replies fill the socket
                if time.monotonic() > deadline:
                    raise ProtocolError("the plugin stopped reading")

    def send_request(self, method, message, service=PLUGIN_SERVICE, raw_payload=None):
        """Sends a call on connection 1; returns its stream id."""
        stream = self.next_stream
        self.next_stream += 2
        payload = raw_payload if raw_payload is not None else message.SerializeToString()
        envelope = ttrpc.Request(service=service, method=method, payload=payload,
                                 timeout_nano=int(self.timeout * 1e9))
        self.sent_at[stream] = time.monotonic()
        self._send_message(PLUGIN_CONN, stream, REQUEST, envelope.SerializeToString())
        self.sent_at[stream] = time.monotonic()  # the plugin's time starts when the request is whole
        return stream

    def call(self, method, message, service=PLUGIN_SERVICE, timeout=None, raw_payload=None):
        stream = self.send_request(method, message, service, raw_payload)
        return self.wait_reply(stream, timeout)

    def reply(self, stream, payload=b"", code=OK, message=""):
        """Answers one of the plugin's calls (on connection 2)."""
        response = ttrpc.Response(status=ttrpc.Status(code=code, message=message), payload=payload)
        self._send_message(RUNTIME_CONN, stream, RESPONSE, response.SerializeToString())

    # --- receiving -----------------------------------------------------------------------------
    def _pump(self, wait):
        r, _, _ = select.select([self.sock], [], [], max(0.0, wait))
        if not r:
            return False
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return False
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return True
        self.rx += data
        self._parse_frames()
        return True

    def _parse_frames(self):
        while len(self.rx) >= 8:
            conn, n = struct.unpack(">II", self.rx[:8])
            if n > MAX_FRAME:
                raise ProtocolError("the plugin sent a frame of %d bytes on connection %d (limit %d)"
                                    % (n, conn, MAX_FRAME))
            if len(self.rx) < 8 + n:
                return
            self.plugin_frames.append(n)
            if conn not in self.streams:
                raise ProtocolError("the plugin sent a frame on connection %d" % conn)
            self.streams[conn] += self.rx[8:8 + n]
            self.rx = self.rx[8 + n:]
            self._parse_messages(conn)

    def _parse_messages(self, conn):
        buf = self.streams[conn]
        while len(buf) >= 10:
            n, stream, mtype, _flags = struct.unpack(">IIBB", buf[:10])
            if len(buf) < 10 + n:
                break
            data, buf = buf[10:10 + n], buf[10 + n:]
            if conn == RUNTIME_CONN and mtype == REQUEST:
                if stream % 2 != 1:
                    raise ProtocolError("the plugin used an even stream id %d" % stream)
                if self.plugin_streams and stream <= self.plugin_streams[-1]:
                    raise ProtocolError("the plugin's stream ids are not increasing: %r then %d"
                                        % (self.plugin_streams, stream))
                self.plugin_streams.append(stream)
                req = ttrpc.Request()
                req.ParseFromString(data)
                self.requests.append((stream, req.service, req.method, req.payload))
            elif conn == PLUGIN_CONN and mtype == RESPONSE:
                if stream not in self.sent_at or stream in self.replies:
                    raise ProtocolError("the plugin answered stream %d, which the harness did not call "
                                        "or which was answered already" % stream)
                resp = ttrpc.Response()
                resp.ParseFromString(data)
                elapsed = time.monotonic() - self.sent_at[stream]
                self.replies[stream] = Reply(resp.status.code, resp.status.message, resp.payload, elapsed)
            else:
                raise ProtocolError("unexpected ttrpc message type %d on connection %d" % (mtype, conn))
        self.streams[conn] = buf

    def wait_reply(self, stream, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        deadline = self.sent_at[stream] + timeout
        while stream not in self.replies:
            if self.eof:
                raise ProtocolError("the plugin closed the connection before answering stream %d" % stream)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("no reply on stream %d within %.1f s" % (stream, timeout))
            self._pump(left)
        reply = self.replies[stream]
        if reply.elapsed > timeout:
            raise ProtocolError("the reply on stream %d took %.3f s (timeout %.1f s)" % (stream, reply.elapsed,
                                                                                          timeout))
        return reply

    def expect_request(self, method, timeout=5.0):
        """The plugin's next call (RegisterPlugin): (stream, parsed request)."""
        deadline = time.monotonic() + timeout
        while not self.requests:
            if self.eof:
                raise ProtocolError("the plugin closed the connection before calling %s" % method)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("the plugin did not call %s within %.1f s" % (method, timeout))
            self._pump(left)
        stream, service, got, payload = self.requests.pop(0)
        if service != RUNTIME_SERVICE or got != method:
            raise ProtocolError("expected %s.%s, got %s.%s" % (RUNTIME_SERVICE, method, service, got))
        cls = {"RegisterPlugin": api.RegisterPluginRequest}[method]
        m = cls()
        m.ParseFromString(payload)
        return stream, m

    def expect_eof(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("the plugin did not close the connection within %.1f s" % timeout)
            self._pump(left)

    # --- the usual sequence --------------------------------------------------------------------
    def register(self, timeout=5.0):
        stream, req = self.expect_request("RegisterPlugin", timeout)
        self.reply(stream, api.Empty().SerializeToString())
        return req

    def configure(self, config="", request_timeout_ms=2000, registration_timeout_ms=5000):
        req = api.ConfigureRequest(config=config, runtime_name=self.runtime_name,
                                   runtime_version=self.runtime_version,
                                   registration_timeout=registration_timeout_ms,
                                   request_timeout=request_timeout_ms)
        return self.call("Configure", req)

    def synchronize(self, pods=(), containers=(), more=False):
        return self.call("Synchronize", api.SynchronizeRequest(pods=list(pods), containers=list(containers),
                                                               more=more))

    def create_container(self, pod, container, timeout=None):
        return self.call("CreateContainer", api.CreateContainerRequest(pod=pod, container=container),
                         timeout=timeout)

    def handshake(self, config="", request_timeout_ms=2000):
        """RegisterPlugin, Configure (checked), an empty Synchronize: the plugin is ready."""
        reg = self.register()
        r = self.configure(config, request_timeout_ms)
        if r.code != OK:
            raise ProtocolError("Configure failed: %r" % r)
        events = r.parse(api.ConfigureResponse).events
        if events != CREATE_CONTAINER_MASK:
            raise ProtocolError("the plugin subscribed to events 0x%x, expected 0x8 (CREATE_CONTAINER)" % events)
        s = self.synchronize()
        if s.code != OK:
            raise ProtocolError("Synchronize failed: %r" % s)
        return reg

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def pod(name="pod", namespace="default", annotations=None, runtime_handler="", uid="uid-1", id="pod-id"):
    return api.PodSandbox(id=id, name=name, uid=uid, namespace=namespace, annotations=annotations or {},
                          runtime_handler=runtime_handler)


def container(name="ctr", annotations=None, env=None, mounts=None, devices=None, cdi_devices=None, id="ctr-id",
              hooks=None):
    c = api.Container(id=id, pod_sandbox_id="pod-id", name=name, annotations=annotations or {},
                      env=list(env or ["PATH=/usr/bin:/bin"]), mounts=list(mounts or []))
    if devices:
        c.linux.devices.extend(devices)
    if cdi_devices:
        c.CDI_devices.extend(api.CDIDevice(name=n) for n in cdi_devices)
    if hooks is not None:
        c.hooks.CopyFrom(hooks)
    return c


class PreRegistered:
    """The plugin started the way a runtime starts /opt/nri/plugins/NN-name: no arguments, the
    socketpair's other end as fd 3, exactly NRI_PLUGIN_SOCKET, NRI_PLUGIN_NAME and NRI_PLUGIN_IDX in
    the environment, stdin, stdout and stderr on /dev/null."""

    def __init__(self, name="cdi-hook", idx="10", argv0=None, env=None, **runtime_args):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.argv0 = argv0 or "/opt/nri/plugins/%s-%s" % (idx, name)
        environment = {"NRI_PLUGIN_SOCKET": "3", "NRI_PLUGIN_NAME": name, "NRI_PLUGIN_IDX": idx}
        if env is not None:
            environment = env
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, theirs.fileno(), 3),
        ]
        self.pid = os.posix_spawn(binary(), [self.argv0], environment, file_actions=actions)
        theirs.close()
        self.runtime = Runtime(ours, **runtime_args)
        self.status = None

    def wait(self, timeout=5.0):
        """The exit code (or -signal), waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                raise ProtocolError("the plugin did not exit within %.1f s" % timeout)
            time.sleep(0.01)
        return self.status

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise ProtocolError("no VmRSS for pid %d" % self.pid)

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            self.wait()
        self.runtime.close()


class Listener:
    """The runtime's NRI socket, for an external plugin to connect to."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)

    def accept(self, timeout=10.0, **runtime_args):
        self.sock.settimeout(timeout)
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            raise ProtocolError("no plugin connected to %s within %.1f s" % (self.path, timeout))
        return Runtime(conn, **runtime_args)

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


class External:
    """The plugin started as a daemon that connects to the runtime's socket (--socket)."""

    def __init__(self, socket_path, args=(), stderr_path=None):
        self.stderr_path = stderr_path
        err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
        self.proc = subprocess.Popen([binary(), "--socket", socket_path] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err)
        if stderr_path:
            err.close()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

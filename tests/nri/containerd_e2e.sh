#!/bin/bash
# cdi-hook-nri against a real containerd with NRI, end to end through CRI.
#
# MANUAL, as root:   [CDI_E2E_SUITE=trixie|sid] bash tests/nri/containerd_e2e.sh [PATH/TO/cdi-hook-nri]
# (default: build/release/src/nri/cdi-hook-nri; build it first with
#  cmake --build build/release --target cdi-hook-nri)
#
# Not part of CTest or CI, on purpose: Debian 12's containerd (1.6) has no
# NRI, so this fetches a newer Debian's containerd .deb from deb.debian.org:
# CDI_E2E_SUITE=trixie (the default: Debian 13, containerd 1.7, NRI v0.6.1)
# or sid (containerd 2.1, NRI v0.8.0; its binaries run on Debian 12). Those
# pools drop a package's superseded versions, so the file it fetches changes
# (or vanishes) over time. It takes whatever version the suite's Packages
# index names today, checks the .deb's SHA256 against the index and unpacks it
# with dpkg-deb -x into a temp dir: nothing is installed, and the system's
# containerd, /etc and /var/run/nri are not touched.
#
# What it does: starts that containerd with a private config (version 2 for
# 1.7, version 3 for 2.x; temp root, state and sockets; NRI on with its socket
# in the temp dir; CRI with a local sandbox image; containerd's own CDI
# support off, cdi_spec_dirs the test's spec dir; runc from PATH), builds two
# busybox images offline with podman (private storage) and imports them with
# ctr, starts cdi-hook-nri as an external plugin on the temp NRI socket with a
# CDI spec in a temp dir, then containerd_e2e.py drives CRI over containerd's
# gRPC socket and checks containerd's OCI spec, what the container sees, the
# errors and the plugin's log (cdi-mode raw; then containerd restarted, the
# plugin reconnected). Both suites run those checks (34); sid then goes on
# (63 in all): containerd restarted with its own CDI on (enable_cdi = true,
# 2.x's default) and the plugin restarted in each cdi-mode: containerd
# injects the container's annotation itself and the plugin skips the device
# (each node and hook once in the OCI spec); in reference and auto a device
# named only by the pod (pod-annotations) reaches the container by name, also
# when its spec is written 300 ms after the request; and with enable_cdi =
# false, a name returned in reference mode fails the container (containerd
# does not read cdi_spec_dirs then). Everything it starts is stopped on exit;
# it can be run again, either suite after the other.
#
# Knobs: CDI_E2E_REQUEST_TIMEOUT (containerd's plugin_request_timeout, default
# 2s; containerd 1.7.0-1.7.25 do not tell the plugin, so below about 1.5 s the
# 1 s wait for an unresolvable device outlasts it: containerd closes the plugin
# and creates the container without its devices, and the run FAILs; the
# checks of the plugin's start-up line expect 2s), CONTAINERD_LOG_LEVEL,
# CDI_E2E_LOG_LINES (log lines shown on failure), CDI_E2E_HOLD=SECONDS (on
# failure, keep everything up that long).
#
# Needs (Debian 12): curl, xz-utils, dpkg, podman, busybox-static, runc,
# protobuf-compiler, python3-protobuf, python3-grpcio (the last is installed
# here with apt-get if missing; nothing in CI needs it).
set -euo pipefail

suite=${CDI_E2E_SUITE:-trixie}
case "$suite" in
  trixie | sid) ;;
  *) printf 'FAIL: CDI_E2E_SUITE=%s: trixie (containerd 1.7) or sid (containerd 2.x)\n' "$suite" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
plugin=$(readlink -f "${1:-$repo/build/release/src/nri/cdi-hook-nri}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
pause_image=localhost/cdi-e2e-pause:1
workload_image=localhost/cdi-e2e-workload:1

say() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (containerd, runc and the plugin need it)"
[ -x "$plugin" ] || die "no plugin binary at $plugin (cmake --build build/release --target cdi-hook-nri)"
for tool in curl xz dpkg-deb sha256sum file podman runc protoc busybox; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian 12 package needed)"
done
busybox=$(readlink -f "$(command -v busybox)")
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || die "$busybox is not static (apt-get install busybox-static)"
if ! /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null; then
  say "installing python3-grpcio python3-protobuf (Debian 12)"
  apt-get install -y python3-grpcio python3-protobuf >/dev/null
fi

tmp=$(mktemp -d /tmp/cdi-ctrd-e2e.XXXXXX)
# containerd 1.7's shims put their sockets in /run/containerd/s whatever the
# config says; when this run creates /run/containerd, it removes what is left
# empty there on exit (rmdir: never anything another containerd holds).
had_run_containerd=$([ -e /run/containerd ] && echo yes || echo no)
chmod 0755 "$tmp"
containerd_pid=
plugin_pid=

stop_pid() {  # PID: TERM, wait up to 10 s, then KILL
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# Shims outlive containerd; they are ours when their command line names our
# private containerd socket (the temp dir is unique to this run).
our_shims() {
  local d
  for d in /proc/[0-9]*; do
    tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -q -- "-address $tmp/containerd.sock " && echo "${d#/proc/}"
  done
  return 0
}

cleanup() {
  local rc=$? pid mnt
  set +e
  trap - EXIT INT TERM
  if [ "$rc" != 0 ]; then
    for log in containerd.log plugin.log plugin.stderr; do
      [ -s "$tmp/$log" ] && { echo "--- last lines of $log"; tail -"${CDI_E2E_LOG_LINES:-15}" "$tmp/$log"; }
    done
    if [ -n "${CDI_E2E_HOLD:-}" ]; then  # debugging: keep everything up for a while
      echo "holding $tmp for $CDI_E2E_HOLD s (ctr: $tmp/pkg/usr/bin/ctr --address $tmp/containerd.sock)"
      sleep "$CDI_E2E_HOLD"
    fi
  fi
  if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null && [ -f "$tmp/pb/cri_subset_pb2.py" ]; then
    /usr/bin/python3 "$here/containerd_e2e.py" cleanup --tmp "$tmp" >>"$tmp/cleanup.log" 2>&1
  fi
  stop_pid "$plugin_pid"
  stop_pid "$containerd_pid"
  for pid in $(our_shims); do stop_pid "$pid"; done
  # Mounts containerd left under the temp dir (rootfs, /dev/shm), deepest first.
  awk -v t="$tmp/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r mnt; do
    umount -l "$mnt"
  done
  rm -rf "$tmp"
  if [ "$had_run_containerd" = no ] && [ -d /run/containerd ]; then
    find /run/containerd -depth -type d -empty -delete
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The suite's containerd, checked against the index, unpacked.
say "fetching the $suite Packages index"
curl -fsS -o "$tmp/Packages.xz" "$mirror/dists/$suite/main/binary-amd64/Packages.xz"
read -r deb_file deb_sha deb_version < <(xz -dc "$tmp/Packages.xz" | awk '
  /^Package: / { p = ($2 == "containerd") }
  p && /^Version: / { v = $2 }
  p && /^Filename: / { f = $2 }
  p && /^SHA256: / { s = $2 }
  /^$/ && p && f != "" { print f, s, v; exit }')
[ -n "${deb_file:-}" ] || die "no containerd in the $suite Packages index"
say "containerd $deb_version: $deb_file"
curl -fsS -o "$tmp/containerd.deb" "$mirror/$deb_file"
echo "$deb_sha  $tmp/containerd.deb" | sha256sum -c --quiet - || die "SHA256 of $deb_file differs from the index"
dpkg-deb -x "$tmp/containerd.deb" "$tmp/pkg"
bin=$tmp/pkg/usr/bin
"$bin/containerd" --version

# 2. A private containerd.
mkdir -p "$tmp/nri-conf.d" "$tmp/nri-plugins" "$tmp/cni-bin" "$tmp/cni-conf"
snapshotter=overlayfs
if ! { mkdir -p "$tmp/ovl/l" "$tmp/ovl/u" "$tmp/ovl/w" "$tmp/ovl/m" &&
       mount -t overlay overlay -o "lowerdir=$tmp/ovl/l,upperdir=$tmp/ovl/u,workdir=$tmp/ovl/w" "$tmp/ovl/m" 2>/dev/null; }; then
  snapshotter=native
fi
umount "$tmp/ovl/m" 2>/dev/null || true
rm -rf "$tmp/ovl"
# containerd's config: 1.7 takes version 2, 2.x version 3 (other plugin IDs:
# CRI's runtime and image parts are io.containerd.cri.v1.runtime and
# io.containerd.cri.v1.images). ARG: containerd's own CDI support, true or
# false (its cdi_spec_dirs: the test's spec dir).
write_config() {
  local enable_cdi=$1 nri
  nri=$(cat <<EOF
  disable = false
  disable_connections = false
  socket_path = "$tmp/nri.sock"
  plugin_path = "$tmp/nri-plugins"
  plugin_config_path = "$tmp/nri-conf.d"
  plugin_registration_timeout = "5s"
  plugin_request_timeout = "${CDI_E2E_REQUEST_TIMEOUT:-2s}"
EOF
)
  if [ "$suite" = trixie ]; then
    cat >"$tmp/config.toml" <<EOF
version = 2
root = "$tmp/root"
state = "$tmp/state"
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
[plugins."io.containerd.nri.v1.nri"]
$nri
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  enable_cdi = $enable_cdi
  cdi_spec_dirs = ["$tmp/cdi"]
  # The sandbox gets oom_score_adj -998, which needs CAP_SYS_RESOURCE; a root
  # without it (a VM sandbox, a container) fails in runc init. Cap it at ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "$snapshotter"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$tmp/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$tmp/cni-bin"
    conf_dir = "$tmp/cni-conf"
EOF
  else
    cat >"$tmp/config.toml" <<EOF
version = 3
root = "$tmp/root"
state = "$tmp/state"
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
[plugins.'io.containerd.nri.v1.nri']
$nri
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "$snapshotter"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$pause_image"
[plugins.'io.containerd.cri.v1.runtime']
  enable_cdi = $enable_cdi
  cdi_spec_dirs = ["$tmp/cdi"]
  # As for 1.7: the sandbox's oom_score_adj capped at ours.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$tmp/runc"
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$tmp/cni-bin"]
    conf_dir = "$tmp/cni-conf"
EOF
  fi
}
write_config false
ctr() { "$bin/ctr" --address "$tmp/containerd.sock" -n k8s.io "$@"; }
start_containerd() {
  PATH="$bin:$PATH" "$bin/containerd" --config "$tmp/config.toml" --log-level "${CONTAINERD_LOG_LEVEL:-info}" \
    >>"$tmp/containerd.log" 2>&1 &
  containerd_pid=$!
  for _ in $(seq 100); do
    [ -S "$tmp/containerd.sock" ] && ctr version >/dev/null 2>&1 && break
    kill -0 "$containerd_pid" 2>/dev/null || { tail -20 "$tmp/containerd.log"; die "containerd exited"; }
    sleep 0.1
  done
  ctr version >/dev/null || die "containerd does not answer on $tmp/containerd.sock"
  [ -S "$tmp/nri.sock" ] || { grep -i nri "$tmp/containerd.log" | tail; die "containerd has no NRI socket at $tmp/nri.sock"; }
}
say "starting containerd (snapshotter $snapshotter)"
start_containerd

# 3. Two busybox images, built offline (podman with private storage), imported.
say "building and importing $pause_image and $workload_image"
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/dev" "$tmp/rootfs/proc" "$tmp/rootfs/sys" "$tmp/rootfs/etc" "$tmp/rootfs/tmp"
cp "$busybox" "$tmp/rootfs/bin/busybox"
for applet in sh ls env cat sleep head od echo stat test true; do ln -s busybox "$tmp/rootfs/bin/$applet"; done
tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
podman_() { podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver vfs "$@"; }
podman_ import --quiet --change 'ENTRYPOINT ["/bin/sh", "-c", "trap \"exit 0\" TERM; while :; do sleep 1; done"]' \
  "$tmp/rootfs.tar" "$pause_image" >/dev/null
podman_ import --quiet --change 'CMD ["/bin/sh"]' "$tmp/rootfs.tar" "$workload_image" >/dev/null
for image in "$pause_image" "$workload_image"; do
  podman_ save --format docker-archive -o "$tmp/image.tar" "$image" 2>/dev/null
  ctr images import --snapshotter "$snapshotter" "$tmp/image.tar" >/dev/null
  rm -f "$tmp/image.tar"
done
podman_ rmi -a >/dev/null 2>&1 || true
ctr images ls -q | grep -qx "$pause_image" || die "$pause_image not in containerd"

# 4. The CDI spec and the plugin.
mkdir -p "$tmp/cdi" "$tmp/share"
echo "hello from the host" >"$tmp/share/hello"
cat >"$tmp/cdi/vendor.com-class.yaml" <<EOF
cdiVersion: "0.6.0"
kind: vendor.com/class
devices:
  - name: dev
    containerEdits:
      deviceNodes:
        - path: /dev/cdi-null
          hostPath: /dev/null
        - path: /dev/cdi-zero
          hostPath: /dev/zero
      env:
        - CDI_E2E_DEVICE=vendor.com/class=dev
      mounts:
        - hostPath: $tmp/share
          containerPath: /cdi-share
          type: bind
          options: [rbind, ro]
      hooks:
        - hookName: createRuntime
          path: /bin/sh
          args: [sh, -c, "cat > $tmp/hook-state.json"]
  - name: ro
    containerEdits:
      deviceNodes:
        - path: /dev/cdi-zero-ro
          hostPath: /dev/zero
          permissions: r
EOF
# The plugin, external, on containerd's NRI socket; its log in plugin.log.
# ARGS: more options (--cdi-mode, --pod-annotations). A plugin started
# before is stopped first, and its log kept as plugin-N.log.
plugins_started=0
start_plugin() {
  if [ -n "$plugin_pid" ]; then
    stop_pid "$plugin_pid"
    plugin_pid=
    mv "$tmp/plugin.log" "$tmp/plugin-$plugins_started.log"
  fi
  plugins_started=$((plugins_started + 1))
  say "starting cdi-hook-nri $*"
  "$plugin" --socket "$tmp/nri.sock" --spec-dir "$tmp/cdi" --log-file "$tmp/plugin.log" --log-level debug "$@" \
    >>"$tmp/plugin.stdout" 2>>"$tmp/plugin.stderr" &
  plugin_pid=$!
  for _ in $(seq 100); do
    grep -q 'configured by runtime' "$tmp/plugin.log" 2>/dev/null && break
    kill -0 "$plugin_pid" 2>/dev/null || { cat "$tmp/plugin.stderr" "$tmp/plugin.log"; die "cdi-hook-nri exited"; }
    sleep 0.1
  done
  grep 'configured by runtime' "$tmp/plugin.log" || { cat "$tmp/plugin.log"; die "cdi-hook-nri was not configured by containerd"; }
}
start_plugin

# 5. CRI, driven from Python; the checks.
mkdir -p "$tmp/pb"
protoc --proto_path="$here" --python_out="$tmp/pb" "$here/cri_subset.proto"
e2e() {  # COMMAND [ARGS]: one step of containerd_e2e.py
  local command=$1
  shift
  /usr/bin/python3 "$here/containerd_e2e.py" "$command" --suite "$suite" --tmp "$tmp" --ctr "$bin/ctr" \
    --workload-image "$workload_image" "$@"
}
say "driving CRI (containerd's CDI off, cdi-mode raw)"
e2e run

# 6. containerd restarts (the plugin is not told: the connection closes); the
# plugin reconnects, is synchronized with what runs, and keeps injecting.
restart_containerd() {  # ENABLE_CDI
  stop_pid "$containerd_pid"
  write_config "$1"
  start_containerd
}
say "restarting containerd"
restart_containerd false
for _ in $(seq 100); do
  [ "$(grep -c 'configured by runtime' "$tmp/plugin.log")" -ge 2 ] && break
  sleep 0.1
done
e2e after-restart

# 7. containerd 2.x only: its own CDI support on (cdi_spec_dirs: the same
# dir), with the plugin in each mode.
if [ "$suite" = sid ]; then
  say "restarting containerd with enable_cdi = true"
  restart_containerd true
  start_plugin --cdi-mode raw
  e2e cdi-on --mode raw
  for mode in reference auto; do
    start_plugin --cdi-mode "$mode" --pod-annotations
    e2e cdi-on --mode "$mode"
  done
  say "restarting containerd with enable_cdi = false"
  restart_containerd false
  start_plugin --cdi-mode reference --pod-annotations
  e2e cdi-off-reference
fi
say "PASS: cdi-hook-nri against containerd $deb_version"

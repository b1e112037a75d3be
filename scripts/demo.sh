#!/usr/bin/env bash
# A first look at cdi-hook, as root on Debian 12 (a few minutes the first time):
#   1. installs the Debian packages that are missing (scripts/install-deps.sh says which);
#   2. builds the cdi-hook binary only (release preset, no tests);
#   3. shows which edits the devices that examples/config.json asks for (by annotation) get from the
#      specs in cdi-specs/, and from which spec file (inject --explain);
#   4. injects them into a copy of examples/config.json in a throwaway bundle with a busybox rootfs, runs
#      it with runc and prints what the container sees; the bundle and the container are removed after;
#   5. checks the same devices with `cdi-hook try`: each node, access, env entry and mount, one a line.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run this as root (it installs packages and starts a container with runc)" >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

step "Installing what is missing (scripts/install-deps.sh)"
bash scripts/install-deps.sh

step "Building the cdi-hook binary (cmake --preset release; target cdi-hook only)"
cmake --preset release >/dev/null
cmake --build --preset release --target cdi-hook
bin=$PWD/build/release/src/cdi-hook

step "What examples/config.json's devices add, and where each edit comes from"
echo "\$ cdi-hook inject --config examples/config.json --spec-dir cdi-specs --explain"
"$bin" inject --config examples/config.json --spec-dir cdi-specs --explain

tmp=$(mktemp -d /tmp/cdi-hook-demo.XXXXXX)
id="cdi-hook-demo-$$"
cleanup() {
  runc --root "$tmp/runc" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A bundle: examples/config.json (the devices injected in place) and a rootfs of a static busybox.
bundle=$tmp/bundle
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/dev" "$bundle/rootfs/proc" "$bundle/rootfs/etc"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done
cp examples/config.json "$bundle/config.json"
"$bin" inject --config "$bundle/config.json" --spec-dir cdi-specs --in-place

step "Running it with runc: what the container sees"
echo "\$ runc run --bundle BUNDLE $id    # process.args: $(sed -n 's/.*"args": \(.*\),$/\1/p' examples/config.json)"
runc --root "$tmp/runc" run --bundle "$bundle" "$id" </dev/null

step "Checking every edit in a container of its own: cdi-hook try"
echo "\$ cdi-hook try --spec-dir cdi-specs example.com/char=null example.com/char=zero"
"$bin" try --spec-dir cdi-specs example.com/char=null example.com/char=zero

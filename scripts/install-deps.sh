#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, run and test cdi-hook.
# Runs as root (apt-get); as another user it only reports what is missing.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config git ca-certificates
  # libraries (headers and static archives)
  libyaml-dev rapidjson-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
  # tests: e2e runner, real container runtime and engine, a static busybox for test rootfs
  python3 runc podman busybox-static
  # tests: the guest map's JSON Schema checked against the parser
  python3-jsonschema
  # tests: the man page rendered, the logrotate snippet run
  groff-base man-db logrotate
  # the NRI plugin: protobuf (C++ library and compiler; Python for its test harness), YAML for the manifest test
  libprotobuf-dev protobuf-compiler python3-protobuf python3-yaml
  # tests: setfacl, to grant another user write through a POSIX ACL (tests/e2e/test_spec_trust.py)
  acl
  # the NRI deployment tests: systemd-analyze checks the unit (podman, above, builds the image)
  systemd
  # compatibility tests against the reference Go CDI library (Debian's 0.5.2)
  golang-go golang-github-container-orchestrated-devices-container-device-interface-dev
  # fuzzing (the fuzz preset: clang with libFuzzer and the sanitizer runtimes), formatting and tidy checks
  clang libclang-rt-14-dev clang-format clang-tidy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (run as root to install): ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
echo "install-deps: on a fresh Debian 12 that is 400 to 600 MB to download with their dependencies and 3 to 10 minutes" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The real figure for this machine, from apt's own list of the archives it would fetch.
bytes=$(apt-get install -y -qq --print-uris "${missing[@]}" | awk '{s += $3} END {print s + 0}')
echo "install-deps: downloading $((bytes / 1048576)) MB, then unpacking..." >&2
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done" >&2

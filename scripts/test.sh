#!/usr/bin/env bash
# Installs the dependencies, builds the release preset and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
ctest --preset release -j 2 "$@"

#!/usr/bin/env bash
# Installs the dependencies, builds cdi-hook and injects the devices that
# examples/config.json asks for (by annotation) from the spec in cdi-specs/,
# printing the adjusted config.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release >&2
exec build/release/src/cdi-hook inject --config examples/config.json --spec-dir cdi-specs --cache-dir none

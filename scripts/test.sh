#!/usr/bin/env bash
# Builds sagegen (running setup.sh first) and runs every test suite with ctest.
# GPU suites skip themselves where no CUDA device is present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SAGEGEN_BUILD_DIR:-$root/build}"
bash "$root/scripts/setup.sh"
cd "$build_dir"
ctest --output-on-failure -j "${SAGEGEN_TEST_JOBS:-2}" "$@"

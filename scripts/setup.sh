#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for sagegen and builds it. Idempotent: every step is
# skipped when its result is already there.
#   bash scripts/setup.sh            # system packages, venv + torch, configure, build
#   SAGEGEN_BUILD_DIR=build-x bash scripts/setup.sh
# Environment: SAGEGEN_SKIP_APT=1 skips the system packages; CMAKE_ARGS adds configure flags.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SAGEGEN_BUILD_DIR:-$root/build}"
torch_version="2.11.0"  # the GPU machine runs 2.11.0+cu130; PyPI's 2.11.0 wheel is cu130 too
jobs="${SAGEGEN_JOBS:-$(nproc)}"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf '\nsetup.sh: %s\n' "$*" >&2; exit 1; }

apt_packages=(build-essential cmake ninja-build pkg-config python3-venv
  libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libpng-dev libopencv-dev)

if [[ "${SAGEGEN_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    step "installing system packages: ${missing[*]}"
    sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -q || fail "apt-get update failed (network or apt sources?)"
    $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}" \
      || fail "apt-get install failed for: ${missing[*]}"
  else
    step "system packages present"
  fi
fi

venv="$root/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  step "creating the Python venv for libtorch at $venv"
  python3 -m venv "$venv" || fail "python3 -m venv failed (apt-get install python3-venv?)"
fi
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$torch_version' else 1)" 2>/dev/null; then
  step "installing torch==$torch_version (libtorch) from PyPI into the venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "torch==$torch_version" \
    || fail "pip install torch==$torch_version failed (is PyPI reachable?)"
else
  step "torch $torch_version present in the venv"
fi

step "configuring in $build_dir"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  # shellcheck disable=SC2086
  cmake -S "$root" -B "$build_dir" "${generator[@]}" ${CMAKE_ARGS:-} || fail "cmake configure failed"
fi

step "building with $jobs jobs"
cmake --build "$build_dir" -j "$jobs" || fail "build failed (see the compiler output above)"
step "built: $build_dir/app/sagegen"

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
  libpng-dev libopencv-dev libgloo-dev libsentencepiece-dev libcli11-dev)

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
# The torch wheel's own dependency list pulls ~3 GB of CUDA libraries that the CUDA toolkit on
# this machine already has, plus triton (Python-only). Where the toolkit's libraries resolve
# through the loader cache we install torch without its dependencies and add only the pieces
# the toolkit lacks; that keeps the venv near 1.6 GB instead of 4.6 GB (CI disks are small).
# SAGEGEN_TORCH_FULL=1 forces the wheel's full dependency set. docs/dependencies.md says more.
toolkit_sonames=(libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 libnccl.so.2
  libcusparse.so.12 libcufft.so.12 libcurand.so.10 libcupti.so.13 libnvJitLink.so.13)
toolkit_has_torch_libs() {
  local cache
  cache="$(ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null)" || return 1
  for so in "${toolkit_sonames[@]}"; do
    grep -q "^[[:space:]]*$so " <<<"$cache" || { echo "$so"; return 1; }
  done
}
lean_torch_packages=("torch==$torch_version" nvidia-cusparselt-cu13==0.8.0
  nvidia-nvshmem-cu13==3.4.5 nvidia-cufile==1.15.1.6
  filelock typing-extensions "setuptools<82" sympy mpmath networkx jinja2 markupsafe fsspec)
pip_install=("$venv/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check)

if ! "$venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$torch_version' else 1)" 2>/dev/null; then
  if [[ "${SAGEGEN_TORCH_FULL:-0}" != 1 ]] && missing_so="$(toolkit_has_torch_libs)"; then
    step "installing torch==$torch_version (libtorch) from PyPI; CUDA libraries from the toolkit"
    "${pip_install[@]}" --no-deps "${lean_torch_packages[@]}" \
      || fail "pip install torch==$torch_version failed (is PyPI reachable? is the disk full? df -h $venv)"
  else
    [[ "${SAGEGEN_TORCH_FULL:-0}" == 1 ]] || step "the CUDA toolkit lacks ${missing_so:-its libraries}: installing torch with all its CUDA wheels"
    step "installing torch==$torch_version (libtorch) with its dependencies from PyPI"
    "${pip_install[@]}" "torch==$torch_version" \
      || fail "pip install torch==$torch_version failed (is PyPI reachable? is the disk full? df -h $venv)"
  fi
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

#!/usr/bin/env bash
# Copies the CLI11 headers of this machine (Debian libcli11-dev) into .deps/cli11/CLI/ of the
# tree, for a build machine without the package and without network (the GPU machine): carry
# .deps there with the tree. .deps/ is ignored by git; nothing third-party is committed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${CLI11_INCLUDE_DIR:-/usr/include}/CLI"
[[ -f "$src/CLI.hpp" ]] || { echo "stage_cli11.sh: no $src/CLI.hpp (apt-get install libcli11-dev)" >&2; exit 1; }
mkdir -p "$root/.deps/cli11"
rm -rf "$root/.deps/cli11/CLI"
cp -r "$src" "$root/.deps/cli11/CLI"
echo "stage_cli11.sh: CLI11 headers in $root/.deps/cli11/CLI"

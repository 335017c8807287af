#!/usr/bin/env bash
# Compiles every .cu file of a configured build once more with the host compiler's -Wall -Wextra
# (nvcc -Xcompiler) and prints the warnings. The build itself leaves nvcc's host pass at its
# defaults (cmake/SagegenWarnings.cmake); this is the check for it. Device code is compiled to
# PTX for one architecture only, which is enough for the host pass and keeps it to about a
# minute on 2 cores.
#   bash scripts/cuda_host_warnings.sh [BUILD_DIR]   # default ./build
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
[[ -f "$build/compile_commands.json" ]] || { echo "no $build/compile_commands.json (configure first)" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
python3 - "$build/compile_commands.json" "$out" <<'PY' | while IFS= read -r -d '' cmd; do
import json, re, shlex, sys
entries, out = json.load(open(sys.argv[1])), sys.argv[2]
for e in entries:
    if not e["file"].endswith(".cu"):
        continue
    args = shlex.split(e["command"])
    keep, i = [], 0
    while i < len(args):
        if args[i] == "-gencode":
            i += 2
            continue
        if args[i] == "-o":
            keep += ["-o", f"{out}/{len(keep)}.o"]
            i += 2
            continue
        keep.append(args[i])
        i += 1
    keep[1:1] = ["-gencode", "arch=compute_90a,code=compute_90a", "-Xcompiler=-Wall,-Wextra"]
    sys.stdout.write(f"cd {shlex.quote(e['directory'])} && echo '== {e['file']}' && "
                     + " ".join(shlex.quote(a) for a in keep) + "\0")
PY
  bash -c "$cmd" 2>&1 | grep -v -e 'Registers are spilled' -e '^ptxas info' || true
done

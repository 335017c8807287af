#!/usr/bin/env bash
# Copies this machine's sentencepiece (Debian libsentencepiece-dev: two headers and one shared
# library with no dependencies beyond libstdc++) into DEST/include and DEST/lib, for a machine
# without the package (the GPU machine): build there with -DSAGEGEN_SENTENCEPIECE_ROOT=DEST.
#   bash scripts/bundle_sentencepiece.sh shared/sentencepiece
set -euo pipefail
dest="${1:?usage: bundle_sentencepiece.sh DEST}"
lib="$(ldconfig -p | awk '/libsentencepiece\.so\.0 .*x86-64/ {found = $NF} END {print found}')"
[[ -n "$lib" && -f /usr/include/sentencepiece_processor.h ]] \
  || { echo "bundle_sentencepiece.sh: no libsentencepiece here (apt-get install libsentencepiece-dev)" >&2; exit 1; }
mkdir -p "$dest/include" "$dest/lib"
cp /usr/include/sentencepiece_processor.h /usr/include/sentencepiece_trainer.h "$dest/include/"
cp -L "$lib" "$dest/lib/libsentencepiece.so.0"
# Plain copies, not a link: the device runner does not carry links.
cp -L "$lib" "$dest/lib/libsentencepiece.so"
echo "sentencepiece in $dest; configure with -DSAGEGEN_SENTENCEPIECE_ROOT=$(cd "$dest" && pwd)"

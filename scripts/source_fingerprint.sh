#!/usr/bin/env bash
# A fingerprint of the source tree that needs no git: sha256 over the paths and contents of the
# files under the directories that build and configure sagegen (build outputs excluded). The GPU
# machine gets a copy of the working tree whose .git, if any, may be stale, so scripts there print
# this instead of trusting `git rev-parse`; run it here on the same tree to get the same value.
set -euo pipefail
cd "$(dirname "$0")/.."
find CMakeLists.txt app attention pipelines bench cmake configs scripts tests -type f \
     -not -path '*/build*' -not -name '*.pyc' -print0 2>/dev/null |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16

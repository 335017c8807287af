#!/usr/bin/env bash
# Sequence-parallel (Ulysses) timing on a machine with 2+ GPUs, in one command (device tool `run`,
# kind nvidia-h200-x2): configure with the machine's torch -> build `sagegen` -> bench-pipeline of
# the Wan2.1-1.3B-shape random-weight model at 832x480x81 (32,760 tokens, CFG batch 2) with fp16
# and sage2-8b on 1 GPU, then on 2 (and 4, 8 where the machine has them) through `--gpus N`, each
# N twice: CFG split over ranks (the default) and SAGEGEN_CFG_PARALLEL=off (plain Ulysses).
# Prints a summary LAST: s/step per variant and GPU count, speed-up, communication share.
#   scripts/gpu_multi.sh                 1 and 2 GPUs (and every power of two up to the GPUs)
#   scripts/gpu_multi.sh --gpus "1 2"    these counts only
#   scripts/gpu_multi.sh --repeat 5      timed steps per variant (default 3, warm-up 1)
set -uo pipefail

# NVLink multicast (NVLS) stays off everywhere: on the lent machines it can take the shared
# host's GPUs out of service. `sagegen --gpus` sets NCCL_NVLS_ENABLE=0 in its ranks too.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

counts='' repeat=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gpus) counts="$2"; shift ;;
    --repeat) repeat="$2"; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_multi.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root" || exit 1
build_dir=${SAGEGEN_BUILD_DIR:-build-device}
OUT=${OUT:-$build_dir/multi-out}
mkdir -p "$OUT" "$build_dir"
summary="$OUT/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
started=$(date +%s)
stamp() { echo "[$(( $(date +%s) - started ))s] $*"; }

gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
note "date: $(date -u '+%Y-%m-%d %H:%M UTC')  GPUs: $gpus x $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo n/a)"
nvidia-smi topo -m >"$OUT/topology.txt" 2>&1
if [[ -z $counts ]]; then
  counts=1
  for n in 2 4 8; do (( n <= gpus )) && counts="$counts $n"; done
fi

stamp "configure + build sagegen ($build_dir)"
build_log="$build_dir/build.log"
torch_prefix=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null)
source scripts/sentencepiece_flags.sh
if ! { cmake -S . -B "$build_dir" -G Ninja ${torch_prefix:+-DCMAKE_PREFIX_PATH="$torch_prefix"} \
         -DCMAKE_BUILD_TYPE=Release -DSAGEGEN_CUDA=ON -DSAGEGEN_CUDA_ARCHS=90a \
         -DSAGEGEN_OPENCV=OFF -DSAGEGEN_BUILD_TESTS=OFF -DSAGEGEN_BUILD_BENCH=OFF \
         "${sentencepiece_flags[@]}" &&
       cmake --build "$build_dir" -j "${SAGEGEN_JOBS:-$(nproc)}" --target sagegen; } >"$build_log" 2>&1; then
  grep -E 'error|Error' "$build_log" | head -30
  cp "$build_log" "$OUT/"
  note "build: FAILED (see build.log)"; exit 1
fi
note "$(grep 'process groups' "$build_log" | sed 's/^-- //')"

bench=(bench-pipeline --device cuda --size 832x480 --frames 81 --variants fp16,sage2-8b
       --warmup 1 --repeat "$repeat")
declare -A step_seconds
# Runs: "1", then per N > 1 "N" (default: CFG split over two halves of the ranks when N is even,
# docs/multi-gpu.md) and, for even N, "Nu" (SAGEGEN_CFG_PARALLEL=off: plain Ulysses over all N).
runs=''
for n in $counts; do
  runs="$runs $n"
  (( n > 1 && n % 2 == 0 )) && runs="$runs ${n}u"
done
for run in $runs; do
  n=${run%u}
  log="$OUT/gpus$run.txt"
  mode=auto; [[ $run == *u ]] && mode=off
  stamp "bench-pipeline on $n GPU(s), SAGEGEN_CFG_PARALLEL=$mode"
  if (( n == 1 )); then
    "$build_dir/app/sagegen" "${bench[@]}" >"$log" 2>&1
  else
    # NCCL's INIT lines name the transport between the GPUs (P2P/NVLink or SHM): kept in the log.
    SAGEGEN_CFG_PARALLEL=$mode NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT \
      "$build_dir/app/sagegen" --gpus "$n" "${bench[@]}" >"$log" 2>&1
  fi
  rc=$?
  note "--- $n GPU(s), SAGEGEN_CFG_PARALLEL=$mode: rc=$rc"
  grep -E '^(variant|fp16|sage2-8b|model) ' "$log" | tee -a "$summary"
  grep -E 'via (P2P|SHM|NET)' "$log" | head -2 | sed 's/^/  nccl: /' | cut -c1-160 | tee -a "$summary"
  (( rc != 0 )) && tail -15 "$log"
  for variant in fp16 sage2-8b; do
    s=$(awk -v v="$variant" '$1 == v && $2 ~ /^[0-9.]+$/ {print $2; exit}' "$log")
    [[ -n $s ]] && step_seconds[$variant,$run]=$s
  done
done

note "--- speed-up over 1 GPU (s/step, unsynchronised pass; Nu = plain Ulysses, N = CFG split when N is even)"
for variant in fp16 sage2-8b; do
  base=${step_seconds[$variant,1]:-}
  for run in $runs; do
    s=${step_seconds[$variant,$run]:-}
    [[ -n $base && -n $s ]] && note "$variant: $run GPU(s) $s s/step, $(awk -v a="$base" -v b="$s" 'BEGIN {printf "%.2fx", a / b}')"
  done
done
stamp "done"

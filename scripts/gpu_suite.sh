#!/usr/bin/env bash
# The whole GPU suite in one command, for the GPU machine (device tool `run`):
#   configure with the machine's torch -> build -> GPU tests -> torch operator from Python ->
#   attention benchmark -> logs and CSV into $OUT -> a short table printed LAST (the tool returns
#   the tail of the output).
#
#   scripts/gpu_suite.sh                  everything, the benchmark on its default shape set
#   scripts/gpu_suite.sh --quick          GPU tests without the longest cases, a small benchmark
#   scripts/gpu_suite.sh --tests-only     build + GPU tests (+ the torch operator check)
#   scripts/gpu_suite.sh --bench-only     build + benchmark
#   scripts/gpu_suite.sh --filter 'Kernel*sage2_8b*'   gtest filter for the GPU tests
#   scripts/gpu_suite.sh --bench-args '--variants sage2-8b,sdpa-cudnn --hd 128'
#   scripts/gpu_suite.sh --all-tests      also every other ctest suite (CPU ones included)
#   scripts/gpu_suite.sh --ptxas          also keep the kernels' ptxas resource report
#   scripts/gpu_suite.sh --e2e            also the CUDA pipeline tests and `sagegen --prompt` on CUDA
#   scripts/gpu_suite.sh --train SECONDS  first train the built-in model (t2i) for that long;
#                                         --train-args adds flags to `sagegen train`
set -uo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

run_tests=1 run_bench=1 run_op=1 quick=0 all_tests=0 ptxas=0 e2e=0 train_seconds=0 train_args=
gtest_filter='*' bench_args=''
build_dir=${SAGEGEN_BUILD_DIR:-build-device}
jobs=${SAGEGEN_JOBS:-16}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --tests-only) run_bench=0 ;;
    --bench-only) run_tests=0; run_op=0 ;;
    --no-op) run_op=0 ;;
    --filter) gtest_filter="$2"; shift ;;
    --bench-args) bench_args="$2"; shift ;;
    --all-tests) all_tests=1 ;;
    --ptxas) ptxas=1 ;;
    --e2e) e2e=1 ;;
    --train) train_seconds="$2"; shift ;;
    --train-args) train_args="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_suite.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root" || exit 1
OUT=${OUT:-$build_dir/suite-out}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
started=$(date +%s)
stamp() { echo "[$(( $(date +%s) - started ))s] $*"; }

card=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
note "date: $(date -u '+%Y-%m-%d %H:%M UTC')  card: ${card:-none}  commit: $(git rev-parse --short HEAD 2>/dev/null || echo 'n/a (no .git here)')"

# $OUT returns at most 8 files: summary.txt tests.log torch_op.log bench.csv (+ build.log when the
# build fails, ctest.log with --all-tests, ptxas.txt with --ptxas, e2e.log with --e2e, loss.csv
# and the weights in parts with --train); the full build and bench logs stay in $build_dir.
rm -f "$build_dir/measured.txt" "$build_dir/bench_summary.txt"
mkdir -p "$build_dir"
build_log="$build_dir/build.log"

# ---- configure + build -------------------------------------------------------------------------
stamp "configure ($build_dir)"
torch_prefix=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null)
cuda_flags=''
[[ $ptxas == 1 ]] && cuda_flags='-Xptxas=-v'
source "$(dirname "${BASH_SOURCE[0]}")/sentencepiece_flags.sh"
if ! cmake -S . -B "$build_dir" -G Ninja \
    ${torch_prefix:+-DCMAKE_PREFIX_PATH="$torch_prefix"} \
    -DCMAKE_BUILD_TYPE=Release -DSAGEGEN_CUDA=ON -DSAGEGEN_CUDA_ARCHS=90a -DSAGEGEN_OPENCV=OFF \
    -DCMAKE_CUDA_FLAGS="$cuda_flags" "${sentencepiece_flags[@]}" >"$build_log" 2>&1; then
  tail -40 "$build_log"
  cp "$build_log" "$OUT/"
  note "configure: FAILED (see build.log)"; exit 1
fi

targets=()
[[ $run_tests == 1 ]] && targets+=(test_kernels)
[[ $run_op == 1 ]] && targets+=(sageattn_ops)
[[ $run_bench == 1 ]] && targets+=(sagegen_bench_attention)
[[ $e2e == 1 || $train_seconds != 0 ]] && targets+=(sagegen)
[[ $e2e == 1 ]] && targets+=(test_pipelines)
known=$(ninja -C "$build_dir" -t targets all 2>/dev/null | sed 's/:.*//')
build_list=()
for t in "${targets[@]}"; do
  if grep -qx "$t" <<<"$known"; then build_list+=("$t"); else note "target $t: not defined in this tree (skipped)"; fi
done
[[ $all_tests == 1 ]] && build_list=(all)
stamp "build ${build_list[*]:-nothing} (-j$jobs)"
build_ok=1
if [[ ${#build_list[@]} -gt 0 ]]; then
  if ! cmake --build "$build_dir" -j "$jobs" --target "${build_list[@]}" >>"$build_log" 2>&1; then
    build_ok=0
    grep -E 'error|Error' "$build_log" | head -30
    cp "$build_log" "$OUT/"
    note "build: FAILED (see build.log); running what was built"
  fi
fi
[[ $ptxas == 1 ]] && grep -E 'ptxas info|spill|bytes stack' "$build_log" >"$OUT/ptxas.txt"

# ---- the pipeline on CUDA ----------------------------------------------------------------------
e2e_line='e2e: not run'
if [[ $e2e == 1 && -x "$build_dir/tests/pipelines/test_pipelines" ]]; then
  stamp "pipeline tests on CUDA, sagegen --prompt --device cuda"
  {
    "$build_dir/tests/pipelines/test_pipelines" --gtest_filter='*Cuda*' --gtest_color=no
    echo "test_pipelines rc=$?"
    "$build_dir/app/sagegen" --prompt "a red circle above a blue square" --device cuda \
      --out "$build_dir/e2e.png"
    echo "sagegen rc=$?"
  } >"$OUT/e2e.log" 2>&1
  e2e_line="e2e: $(grep -E '^\[  PASSED  \]|^\[  FAILED  \] [0-9]' "$OUT/e2e.log" | tr '\n' ' ')$(grep -E '^(test_pipelines|sagegen) rc=' "$OUT/e2e.log" | tr '\n' ' ')"
fi

# ---- training the built-in model (after the quick end-to-end check) --------------------------------
train_line='train: not run'
if [[ $train_seconds != 0 && -x "$build_dir/app/sagegen" ]]; then
  stamp "train t2i for ${train_seconds}s $train_args"
  train_dir="$build_dir/train-t2i"
  # shellcheck disable=SC2086  # train_args is a list of flags on purpose
  "$build_dir/app/sagegen" train --config configs/train/tiny-t2i.yaml --device cuda \
    --time-limit "$train_seconds" --out "$train_dir" $train_args >"$build_dir/train.log" 2>&1
  rc=$?
  # The trainer's info lines (parameters, fitted steps, checkpoints) and its last words.
  { grep -E 'train: ' "$build_dir/train.log" | tail -8; tail -3 "$build_dir/train.log"; } | cut -c1-240 >>"$summary"
  cp "$train_dir/loss.csv" "$OUT/loss.csv" 2>/dev/null
  # Files come back at most 16 MiB each: the weights travel in parts (cat them back together).
  [[ -f "$train_dir/ema-bf16.safetensors" ]] &&
    split -b 15M -d "$train_dir/ema-bf16.safetensors" "$OUT/ema-bf16.safetensors.part"
  train_line="train: rc=$rc, $(grep -c . "$OUT/loss.csv" 2>/dev/null || echo 0) loss rows; $(grep -E 'steps fit|time limit ran out' "$build_dir/train.log" | tail -1)"
fi

# ---- GPU tests ---------------------------------------------------------------------------------
tests_line='tests: not run'
if [[ $run_tests == 1 && -x "$build_dir/tests/kernels/test_kernels" ]]; then
  filter=$gtest_filter
  # --quick leaves out the 32768-token cases (their CPU golden model costs most of the time).
  if [[ $quick == 1 ]]; then
    if [[ $filter == *-* ]]; then filter="${filter}:*Lq32768*"; else filter="${filter}-*Lq32768*"; fi
  fi
  stamp "test_kernels --gtest_filter=$filter"
  "$build_dir/tests/kernels/test_kernels" --gtest_filter="$filter" --gtest_color=no \
    >"$OUT/tests.log" 2>&1
  rc=$?
  passed=$(grep -c '^\[       OK \]' "$OUT/tests.log")
  failed=$(grep -c '^\[  FAILED  \] .*(' "$OUT/tests.log")
  skipped=$(grep -c '^\[  SKIPPED \] .*(' "$OUT/tests.log")
  tests_line="tests: test_kernels rc=$rc passed=$passed failed=$failed skipped=$skipped"
  grep -E '^\[  FAILED  \] .*\(' "$OUT/tests.log" | head -20 | sed 's/^/  /' >>"$summary"
  grep -E '^\[  FAILED  \] .*\(' "$OUT/tests.log" | head -20
  # Every test prints its measured error against the golden model and exact attention
  # ("measured: ..."); keep them in the summary so the bounds can be re-derived from one run.
  grep -h '^measured' "$OUT/tests.log" >"$build_dir/measured.txt" 2>/dev/null
elif [[ $run_tests == 1 ]]; then
  tests_line='tests: test_kernels was not built'
fi
if [[ $all_tests == 1 ]]; then
  stamp "ctest (all suites)"
  ctest --test-dir "$build_dir" -j 8 --output-on-failure >"$OUT/ctest.log" 2>&1
  tests_line="$tests_line | ctest all: $(grep -E 'tests passed' "$OUT/ctest.log" | tail -1)"
fi

# ---- the torch operator from Python (the three lines of docs/python.md) -----------------------
op_line='torch op: not run'
op_lib="$build_dir/attention/libsageattn_ops.so"
if [[ $run_op == 1 && -f "$op_lib" ]]; then
  stamp "torch operator check"
  if SAGEATTN_OPS="$op_lib" python3 - >"$OUT/torch_op.log" 2>&1 <<'PY'
import os, torch
torch.ops.load_library(os.environ["SAGEATTN_OPS"])
q, k, v = (torch.randn(1, 8, 1000, 128, device="cuda", dtype=torch.bfloat16) for _ in range(3))
ref = torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double())
# Floors on plain randn: INT4 QK lands near cos 0.98 (docs/numerics.md), the others above 0.999.
floors = {"sage2-8b": 0.999, "sage2-4b": 0.95, "sage1": 0.999, "fp16": 0.9999, "auto": 0.999}
failed = []
for variant, floor in floors.items():
    out, lse = torch.ops.sageattn.attention(q, k, v, variant)
    cos = torch.nn.functional.cosine_similarity(out.double().flatten(), ref.flatten(), dim=0).item()
    rel_l1 = ((out.double() - ref).abs().sum() / ref.abs().sum()).item()
    print(f"{variant:9s} shape={tuple(out.shape)} dtype={out.dtype} cos={cos:.6f} rel_l1={rel_l1:.4f}")
    assert out.shape == q.shape and out.dtype == q.dtype and torch.isfinite(out).all(), variant
    if cos < floor:
        failed.append(f"{variant} cos {cos:.4f} < {floor}")
out, lse = torch.ops.sageattn.attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                        "sage2-8b", "NHD", True, None, True)
assert lse.shape == (1, 8, 1000), lse.shape
assert not failed, "; ".join(failed)
print("5 variants, NHD causal with lse: ok")
PY
  then op_line="torch op: ok ($(tail -1 "$OUT/torch_op.log"))"
  else op_line="torch op: FAILED ($(tail -1 "$OUT/torch_op.log"))"; fi
elif [[ $run_op == 1 ]]; then
  op_line='torch op: libsageattn_ops.so was not built'
fi

# ---- benchmark ---------------------------------------------------------------------------------
bench_bin="$build_dir/bench/sagegen_bench_attention"
bench_line='bench: not run'
if [[ $run_bench == 1 && -x "$bench_bin" ]]; then
  [[ $quick == 1 ]] && bench_args="--quick $bench_args"
  stamp "bench $bench_args"
  # shellcheck disable=SC2086  # bench_args is a list of flags on purpose
  "$bench_bin" --csv "$OUT/bench.csv" --summary "$build_dir/bench_summary.txt" $bench_args \
    >"$build_dir/bench.log" 2>&1
  bench_line="bench: rc=$? ($(wc -l <"$OUT/bench.csv" 2>/dev/null || echo 0) CSV lines)"
elif [[ $run_bench == 1 ]]; then
  bench_line='bench: sagegen_bench_attention was not built'
fi

# ---- the short table, last ---------------------------------------------------------------------
stamp "done"
{
  echo "==================== sagegen GPU suite ===================="
  cat "$summary"
  echo "$e2e_line"
  echo "$train_line"
  echo "$tests_line"
  echo "$op_line"
  echo "$bench_line"
  [[ -s "$build_dir/measured.txt" ]] && { echo "-- measured errors (first 12; all in tests.log)"; head -12 "$build_dir/measured.txt"; }
  [[ -s "$build_dir/bench_summary.txt" ]] && cat "$build_dir/bench_summary.txt"
} >"$OUT/summary.txt.tmp"
mv "$OUT/summary.txt.tmp" "$summary"
cat "$summary"
[[ $build_ok == 1 ]] && ! grep -q 'FAILED' "$summary"

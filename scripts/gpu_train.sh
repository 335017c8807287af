#!/usr/bin/env bash
# One GPU training run of the built-in model in one command (device tool `run`, the H200):
#   configure + build `sagegen` only -> smoke check (2 steps, resume pack written and resumed)
#   -> train for SECONDS (configs/train/tiny-gpu.yaml, resuming from --resume when given)
#   -> EMA weights and resume pack into $OUT in parts -> `sagegen eval` (fp16 attention)
#   -> a short summary printed LAST. docs/training.md, "GPU runs", has the whole procedure.
#
#   scripts/gpu_train.sh --train 420                       a first run: 420 s of training
#   scripts/gpu_train.sh --train 420 --resume resume       a later run: resume/ holds the last
#                                                          run's resume-pack.safetensors (or its parts)
#   scripts/gpu_train.sh --train 420 --resume build-device/train-run
#                                                          back-to-back on a still-warm machine:
#                                                          the last run's F32 checkpoint
#   scripts/gpu_train.sh --device cpu --train 20           the same path on the CPU (tests here)
#   scripts/gpu_train.sh --bench 30                        build, then time 30 steps (no training
#                                                          run, no eval) with CUDA graphs and
#                                                          without: ms a step split into data
#                                                          wait and the phases of a step, and the
#                                                          busiest kernels of 5 profiled steps
#
# Options:
#   --train SECONDS     training time limit (default 420)
#   --resume PATH       resume pack, checkpoint, directory, or a pack split in PATH.part* parts
#   --config FILE       training config (default configs/train/tiny-gpu.yaml)
#   --train-args 'ARGS' more `sagegen train` flags (e.g. '--lr 3e-4')
#   --device cuda|cpu   (default cuda; cpu adds --batch 2 --warmup 10 --log-every 5)
#   --eval-count N      prompts per image set, seen and held out (default 100; 0: no eval)
#   --eval-clips N      8-frame clips of seen prompts (default 48: one clip is 2 points; 0: none)
#   --eval-timeout S    wall-clock cap of the whole eval (default 60; rc 124 = cut)
#   --eval-clip-shift S the clips again with the sampler's `--shift S` (e.g. 3: more steps at high
#                       noise, where a clip's motion is set; docs/training.md, "Motion"); 5-10 s
#   --bench STEPS       benchmark only (`sagegen train --benchmark STEPS --profile 5`), once with
#                       --cuda-graphs on and once off (only the mode --train-args names, if it
#                       names one); about the build + 20-40 s a mode
#   --check-graphs      also build test_pipelines and run the CUDA-graph training tests first
#                       (graphs on vs off from one seed, 15 steps of a tiny model; ~1-2 min of build)
#   --no-smoke          skip the smoke check
#   --no-build          use the sagegen already built in the build directory
#   --build-dir DIR     (default build-device on cuda, build on cpu)
#
# $OUT gets at most 8 files: summary.txt loss.csv eval.txt ema-bf16.safetensors.partNN
# resume-pack.safetensors.partNN (parts of at most 16,000 KiB; `cat NAME.part* > NAME`).
# Everything else (train.log, F32 checkpoints) stays in the build directory, which is lost when
# the machine goes back.
set -uo pipefail

usage() { sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//'; }

train_seconds=420 resume='' config=configs/train/tiny-gpu.yaml train_args='' device=cuda
eval_count=100 eval_clips=48 eval_timeout=60 eval_clip_shift='' smoke=1 build=1 build_dir='' bench_steps=0 check_graphs=0
jobs=${SAGEGEN_JOBS:-$(nproc)}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --train) train_seconds="$2"; shift ;;
    --resume) resume="$2"; shift ;;
    --config) config="$2"; shift ;;
    --train-args) train_args="$2"; shift ;;
    --device) device="$2"; shift ;;
    --eval-count) eval_count="$2"; shift ;;
    --eval-clips) eval_clips="$2"; shift ;;
    --eval-timeout) eval_timeout="$2"; shift ;;
    --eval-clip-shift) eval_clip_shift="$2"; shift ;;
    --bench) bench_steps="$2"; shift ;;
    --no-smoke) smoke=0 ;;
    --check-graphs) check_graphs=1 ;;
    --no-build) build=0 ;;
    --build-dir) build_dir="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_train.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ $device == cuda || $device == cpu ]] || { echo "gpu_train.sh: --device cuda or cpu" >&2; exit 2; }
[[ -z $build_dir ]] && { [[ $device == cuda ]] && build_dir=build-device || build_dir=build; }

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root" || exit 1
OUT=${OUT:-$build_dir/train-out}
mkdir -p "$OUT" "$build_dir"
summary="$OUT/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
started=$(date +%s)
stamp() { echo "[$(( $(date +%s) - started ))s] $*"; }
phase_times=''
phase() { phase_times="$phase_times $1=$(( $(date +%s) - phase_start ))s"; phase_start=$(date +%s); }
phase_start=$started
sagegen="$build_dir/app/sagegen"
model_config=$(sed -n 's/^model: *//p' "$config" | head -1)
model_config=$(cd "$(dirname "$config")" && realpath -m "$model_config")
extra=()
[[ $device == cpu ]] && extra=(--batch 2 --warmup 10 --log-every 5)

card=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
# The GPU machine gets a copy of the working tree; a .git there may be older than the files (it
# once printed a stale commit), so the fingerprint of the files themselves comes first, and git's
# HEAD is printed only with whether the tree matches it.
git_state() {
  local head
  head=$(git rev-parse --short HEAD 2>/dev/null) || { echo "none (no repository here)"; return; }
  if git diff --quiet HEAD -- 2>/dev/null; then echo "$head (tree matches)"; else echo "$head + other files (stale .git?)"; fi
}
note "date: $(date -u '+%Y-%m-%d %H:%M UTC')  card: ${card:-none}  device: $device  config: $config"
note "source: $(scripts/source_fingerprint.sh 2>/dev/null || echo n/a) (scripts/source_fingerprint.sh)  git HEAD: $(git_state)"

# ---- configure + build (sagegen only) -----------------------------------------------------------
if [[ $build == 1 ]]; then
  stamp "configure + build sagegen ($build_dir, -j$jobs)"
  if [[ $device == cuda ]]; then
    torch_prefix=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null)
    source "$repo_root/scripts/sentencepiece_flags.sh"
    # Tests on: another script may have configured the shared build directory without them
    # (gpu_wan_realsize.sh does), and --check-graphs builds test_pipelines.
    cmake_args=(${torch_prefix:+-DCMAKE_PREFIX_PATH="$torch_prefix"} -DCMAKE_BUILD_TYPE=Release
                -DSAGEGEN_CUDA=ON -DSAGEGEN_CUDA_ARCHS=90a -DSAGEGEN_OPENCV=OFF
                -DSAGEGEN_BUILD_TESTS=ON "${sentencepiece_flags[@]}")
  else
    # shellcheck disable=SC2206  # CMAKE_ARGS (ccache launchers) is a list on purpose
    cmake_args=(-DSAGEGEN_CUDA=OFF ${CMAKE_ARGS:-})
  fi
  if ! { cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" &&
         nice -n 5 cmake --build "$build_dir" -j "$jobs" --target sagegen; } >"$build_dir/build.log" 2>&1; then
    grep -E 'error|Error' "$build_dir/build.log" | head -30
    cp "$build_dir/build.log" "$OUT/"
    note "build: FAILED (see build.log)"; exit 1
  fi
  phase build
fi
[[ -x $sagegen ]] || { note "no $sagegen"; exit 1; }

# ---- the CUDA-graph step against the eager one (tests/pipelines/test_train_graphs.cpp) ----------
if [[ $check_graphs == 1 && $build == 1 ]]; then
  # Apart from sagegen's build: a machine without GoogleTest still runs the benchmark.
  stamp "build test_pipelines"
  nice -n 5 cmake --build "$build_dir" -j "$jobs" --target test_pipelines >"$build_dir/build-tests.log" 2>&1 ||
    { note "graph tests: test_pipelines did not build ($(grep -m1 -E 'error|Error' "$build_dir/build-tests.log" | cut -c1-160))"; check_graphs=0; }
  phase build-tests
fi
if [[ $check_graphs == 1 ]]; then
  stamp "graph tests"
  graph_filter='TrainCudaGraphs.*:TrainStepScalars.*:TrainCaptionPadding.*:TrainCudaGraphsConfig.*'
  "$build_dir/tests/pipelines/test_pipelines" --gtest_filter="$graph_filter" >"$build_dir/graph-tests.log" 2>&1
  graph_rc=$?
  note "graph tests ($graph_filter): rc=$graph_rc, $(grep -cE '^\[       OK \] .* ms\)$' "$build_dir/graph-tests.log") passed, $(grep -cE '^\[  SKIPPED \] .* ms\)$' "$build_dir/graph-tests.log") skipped, $(grep -cE '^\[  FAILED  \] .* ms\)$' "$build_dir/graph-tests.log") failed"
  [[ $graph_rc == 0 ]] || grep -E 'Failure|Expected|Which is|actual|error|step [0-9]+' "$build_dir/graph-tests.log" | head -20 | cut -c1-200 | tee -a "$summary"
  phase graph-tests
fi

# ---- benchmark only: where a step's time goes, then stop --------------------------------------
if [[ $bench_steps != 0 ]]; then
  # Both step modes in one call (the gain of the graphs at a glance), unless --train-args picks one.
  modes=(on off)
  [[ $train_args == *--cuda-graphs* || $device == cpu ]] && modes=(as-given)
  bench_rc=0
  : >"$OUT/benchmark.txt"
  for mode in "${modes[@]}"; do
    mode_args=()
    [[ $mode != as-given ]] && mode_args=(--cuda-graphs "$mode")
    stamp "benchmark ${bench_steps} steps ${mode_args[*]}"
    # shellcheck disable=SC2086  # train_args is a list of flags on purpose
    "$sagegen" train --config "$config" --device "$device" --benchmark "$bench_steps" --profile 5 \
      "${extra[@]}" "${mode_args[@]}" $train_args >"$OUT/benchmark-$mode.txt" 2>"$build_dir/benchmark-$mode.log"
    rc=$?
    [[ $rc == 0 ]] || { bench_rc=$rc; tail -5 "$build_dir/benchmark-$mode.log" | cut -c1-300 >>"$OUT/benchmark-$mode.txt"; }
    cat "$OUT/benchmark-$mode.txt" >>"$OUT/benchmark.txt"
    rm -f "$OUT/benchmark-$mode.txt"
    grep -E 'train: model|CUDA graph .* captured' "$build_dir/benchmark-$mode.log" | sed 's/^.*\] //' >>"$summary"
    phase "benchmark-$mode"
  done
  # One line a mode: the step time and the kernels a step (from the profiler), to compare.
  comparison=$(awk '
    /^benchmark \(/ { mode = $0; sub(/^benchmark \([^,]*, /, "", mode); sub(/, [0-9.]+ samples a step.*$/, "", mode) }
    /^  step [0-9.]+ ms as trained/ { ms[mode] = $2 }
    /device busy/ { match($0, /busy [0-9.]+ ms/); busy[mode] = substr($0, RSTART + 5, RLENGTH - 8)
                    match($0, /[0-9]+ kernels/); kernels[mode] = substr($0, RSTART, RLENGTH - 8) }
    END { for (m in ms) printf "  %-28s %8s ms a step%s\n", m, ms[m],
                               busy[m] == "" ? "" : ", device busy " busy[m] " ms, " kernels[m] " kernels and copies a step" }
  ' "$OUT/benchmark.txt")
  { echo "==================== sagegen training benchmark ===================="
    cat "$summary"; cat "$OUT/benchmark.txt"
    echo "mode comparison:"; echo "$comparison"
    echo "rc=$bench_rc phases:$phase_times"; } >"$summary.tmp"
  mv "$summary.tmp" "$summary"
  cat "$summary"
  exit "$bench_rc"
fi

# ---- the resume pack, put back together from its parts ------------------------------------------
resume_from=''
if [[ -n $resume ]]; then
  # A directory: its latest F32 checkpoint when it has one (a warm machine's train-run), else the
  # resume pack (or its parts) inside it.
  if [[ -d $resume ]] && ! compgen -G "$resume/checkpoint-*.safetensors" >/dev/null &&
     compgen -G "$resume/resume-pack.safetensors*" >/dev/null; then
    resume="$resume/resume-pack.safetensors"
  fi
  if [[ ! -e $resume ]] && compgen -G "$resume.part*" >/dev/null; then
    cat "$resume".part* >"$build_dir/resume-pack.safetensors" || { note "resume: cannot join $resume.part*"; exit 1; }
    note "resume: joined $(ls "$resume".part* | wc -l) parts of $resume, sha256 $(sha256sum "$build_dir/resume-pack.safetensors" | cut -c1-16)"
    resume="$build_dir/resume-pack.safetensors"
  fi
  [[ -e $resume ]] || { note "resume: '$resume' not found (nor $resume.part*)"; exit 1; }
  resume_from=$resume
fi
# A reused $OUT (CPU runs here) must not mix an earlier run's parts with this one's.
rm -f "$OUT"/*.part[0-9]* "$OUT/loss.csv" "$OUT/eval.txt" "$OUT/build.log" "$OUT/smoke.log"

# ---- smoke check: 2 steps, their resume pack, 1 step resumed from it (batch 2) --------------------
if [[ $smoke == 1 ]]; then
  stamp "smoke check"
  smoke_dir="$build_dir/train-smoke"
  rm -rf "$smoke_dir"
  if "$sagegen" train --config "$config" --device "$device" --steps 2 --batch 2 --warmup 1 \
       --log-every 1 --save-every 0 --time-limit 0 --out "$smoke_dir" >"$build_dir/smoke.log" 2>&1 &&
     "$sagegen" train --export-resume "$smoke_dir/checkpoint-00000002.safetensors" \
       --out "$smoke_dir/pack.safetensors" >>"$build_dir/smoke.log" 2>&1 &&
     "$sagegen" train --config "$config" --device "$device" --steps 1 --batch 2 --warmup 0 \
       --log-every 1 --save-every 0 --time-limit 0 --resume "$smoke_dir/pack.safetensors" \
       --out "$smoke_dir" >>"$build_dir/smoke.log" 2>&1 &&
     [[ $(tail -1 "$smoke_dir/loss.csv" | cut -d, -f1) == 3 ]]; then
    note "smoke: ok ($(grep -o 'train: model .*' "$build_dir/smoke.log" | head -1); 2 steps, pack, resumed to step 3)"
  else
    tail -20 "$build_dir/smoke.log"
    cp "$build_dir/smoke.log" "$OUT/"
    note "smoke: FAILED (see smoke.log)"; exit 1
  fi
  phase smoke
fi

# ---- train --------------------------------------------------------------------------------------
train_dir="$build_dir/train-run"
# The last run's directory (a warm machine, or the CPU here) becomes train-run.prev, so that
# `--resume build-device/train-run` still finds its checkpoints.
if [[ -d $train_dir ]]; then
  rm -rf "$train_dir.prev" && mv "$train_dir" "$train_dir.prev"
  if [[ -n $resume_from ]]; then
    abs_resume=$(realpath -m "$resume_from") abs_train=$(realpath -m "$train_dir")
    [[ $abs_resume == "$abs_train" || $abs_resume == "$abs_train"/* ]] &&
      resume_from="$train_dir.prev${abs_resume#"$abs_train"}"
  fi
fi
stamp "train ${train_seconds}s${resume_from:+ from $resume_from} $train_args"
# shellcheck disable=SC2086  # train_args is a list of flags on purpose
"$sagegen" train --config "$config" --device "$device" --time-limit "$train_seconds" \
  --out "$train_dir" ${resume_from:+--resume "$resume_from"} "${extra[@]}" $train_args \
  >"$build_dir/train.log" 2>&1
train_rc=$?
phase train
{ grep -E 'train: ' "$build_dir/train.log" | grep -v 'checkpoint ' | tail -6; } | sed 's/^.*\] //' | cut -c1-200 >>"$summary"
[[ $train_rc == 0 ]] || { tail -5 "$build_dir/train.log" | cut -c1-300 | tee -a "$summary"; }
cp "$train_dir/loss.csv" "$OUT/loss.csv" 2>/dev/null

# ---- weights and resume pack into $OUT, in parts (before the eval: they come back even if it is cut)
last_checkpoint=$(ls "$train_dir"/checkpoint-*.safetensors 2>/dev/null | sort | tail -1)
weights="$train_dir/ema-bf16.safetensors"
if [[ -f $weights && -n $last_checkpoint ]]; then
  "$sagegen" train --export-resume "$last_checkpoint" --out "$train_dir/resume-pack.safetensors" \
    >>"$build_dir/train.log" 2>&1
  for f in "$weights" "$train_dir/resume-pack.safetensors"; do
    [[ -f $f ]] || continue
    split -b 16000k -d "$f" "$OUT/$(basename "$f").part"
    note "$(basename "$f"): $(stat -c %s "$f") bytes in $(ls "$OUT/$(basename "$f")".part* | wc -l) parts, sha256 $(sha256sum "$f" | cut -c1-16)"
  done
else
  note "train: no weights written (rc=$train_rc)"
fi
phase export

# ---- eval: fp16 attention, the world's fixed prompt sets ------------------------------------------
eval_line='eval: not run'
if [[ -f $weights && $eval_count != 0 ]]; then
  stamp "eval (${eval_count} images per set, ${eval_clips} clips, cap ${eval_timeout}s)"
  eval_flags=(--model "$model_config" --weights "$weights" --attention fp16 --device "$device"
              --seed 42 --log-level warn)
  {
    eval_end=$(( $(date +%s) + eval_timeout ))
    echo "== images, 64x64, 20 steps, CFG 4 (the world's seen and held-out prompt sets)"
    timeout "$eval_timeout" "$sagegen" eval "${eval_flags[@]}" --set both --count "$eval_count"
    echo "eval images rc=$? ($(( $(date +%s) - eval_end + eval_timeout ))s)"
    left=$(( eval_end - $(date +%s) ))
    if [[ $eval_clips != 0 && $left -gt 5 ]]; then
      echo "== 8-frame clips of seen prompts (motion)"
      timeout "$left" "$sagegen" eval "${eval_flags[@]}" --set seen --count "$eval_clips" --frames 8 \
        --csv "$build_dir/eval-clips.csv" --overwrite
      echo "eval clips rc=$? ($(( $(date +%s) - eval_end + left ))s)"
      # Which clips miss their motion: the prompts, from the per-prompt scores (last column).
      [[ -f $build_dir/eval-clips.csv ]] && grep -E ',0$' "$build_dir/eval-clips.csv" |
        sed 's/^seen,[0-9]*,[0-9]*,/  motion missed: /; s/,[01,]*$//'
    fi
    left=$(( eval_end - $(date +%s) ))
    if [[ $eval_clips != 0 && -n $eval_clip_shift && $left -gt 5 ]]; then
      echo "== the same clips, sampler shift $eval_clip_shift"
      timeout "$left" "$sagegen" eval "${eval_flags[@]}" --set seen --count "$eval_clips" --frames 8 \
        --shift "$eval_clip_shift"
      echo "eval clips rc=$? ($(( $(date +%s) - eval_end + left ))s, shift $eval_clip_shift)"
    fi
  } >"$OUT/eval.txt" 2>"$build_dir/eval.log"
  eval_line="eval: $(grep -E '^eval (images|clips) rc=' "$OUT/eval.txt" | tr '\n' ' ')"
  grep -qE '^eval (images|clips) rc=[1-9]' "$OUT/eval.txt" &&
    eval_line="$eval_line"$'\n'"$(grep -vE 'warn.*unknown|^\s*$' "$build_dir/eval.log" | tail -3 | cut -c1-200)"
  phase eval
fi

# ---- the short summary, last --------------------------------------------------------------------
stamp "done"
{
  echo "==================== sagegen GPU training run ===================="
  cat "$summary"
  echo "train: rc=$train_rc; last loss.csv row (step,loss,lr,grad_norm,samples/s,seconds):"
  echo "  $(tail -1 "$OUT/loss.csv" 2>/dev/null)"
  echo "$eval_line"
  [[ -s $OUT/eval.txt ]] && grep -vE '^eval (images|clips) rc=' "$OUT/eval.txt" | grep -v '^$' | head -40
  echo "phases:$phase_times (total $(( $(date +%s) - started ))s)"
  echo "files in \$OUT: $(cd "$OUT" && ls | grep -v '\.tmp$' | tr '\n' ' ')"
} >"$OUT/summary.txt.tmp"
mv "$OUT/summary.txt.tmp" "$summary"
cat "$summary"
[[ $train_rc == 0 && -f $weights ]]

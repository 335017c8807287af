#!/usr/bin/env bash
# Wan2.1-T2V-1.3B at real size with random weights: the whole pipeline (text encoding with the
# umT5-XXL encoder, UniPC denoising with CFG, VAE decode) at 832x480x81 on one GPU, per attention
# variant, in one command for the GPU machine (device tool `run`, kind nvidia-h200):
#   configure + build sagegen and sagegen_random_folder -> write the random folder (the real
#   configs of configs/diffusers/Wan2.1-T2V-1.3B-Diffusers, the tiny fixture's tokenizer, bf16
#   values drawn on the GPU: 14 GB) on local disk -> `sagegen --model FOLDER ...` per variant ->
#   each stage's time and peak GPU memory from the sidecars; a summary table printed LAST.
#   scripts/gpu_wan_realsize.sh                          fp16 and sage2-8b, 10 steps
#   scripts/gpu_wan_realsize.sh --variants fp16,sage2-8b,sage1 --steps 20
#   scripts/gpu_wan_realsize.sh --frames 33              a shorter video
#   scripts/gpu_wan_realsize.sh --tiny --skip-build      the script itself checked on a CPU machine:
#       the tiny fixture's configs at 48x32x5 on the CPU, with the binaries already in $SAGEGEN_BUILD_DIR
# Needs sentencepiece (umT5's tokenizer), which the GPU machine lacks: on the CPU machine run
# `bash scripts/bundle_sentencepiece.sh .deps/sentencepiece` once, and carry .deps.
# $OUT gets 4 files: summary.txt, runs.log (the folder writer's and every sagegen run's log),
# sidecars.json (every run's sidecar) and strip.png (9 of the last run's frames at 1/4 size).
set -uo pipefail

variants=fp16,sage2-8b steps=10 frames=81 size=832x480 device=cuda build=1
skeleton=configs/diffusers/Wan2.1-T2V-1.3B-Diffusers
tiny_folder=tests/data/wan-tiny/Wan2.1-T2V-tiny-Diffusers
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tiny) skeleton=$tiny_folder size=48x32 frames=5 steps=3 device=cpu ;;
    --skip-build) build=0 ;;
    --variants) variants="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --frames) frames="$2"; shift ;;
    --size) size="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_wan_realsize.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root" || exit 1
build_dir=${SAGEGEN_BUILD_DIR:-build-device}
OUT=${OUT:-$build_dir/wan-realsize-out}
# 15 GB of weights plus 81 frame PNGs a run: local disk, not the repository's copy.
work=${SAGEGEN_WAN_WORK:-/tmp/sagegen-wan-realsize}
mkdir -p "$OUT" "$build_dir"
summary="$OUT/summary.txt" runs_log="$OUT/runs.log"
: >"$summary"; : >"$runs_log"
note() { echo "$*" | tee -a "$summary"; }
started=$(date +%s)
stamp() { echo "[$(( $(date +%s) - started ))s] $*" | tee -a "$runs_log"; }

note "date: $(date -u '+%Y-%m-%d %H:%M UTC')  card: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -1)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo n/a)"

# ---- build -------------------------------------------------------------------------------------
build_log="$build_dir/build.log"
torch_prefix=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null)
source scripts/sentencepiece_flags.sh
if [[ ${sentencepiece_flags[0]} == -DSAGEGEN_SENTENCEPIECE=OFF ]]; then
  note "no sentencepiece here and none in .deps/sentencepiece: on the CPU machine run"
  note "  bash scripts/bundle_sentencepiece.sh .deps/sentencepiece   and carry .deps"
  exit 1
fi
(( build )) && stamp "configure + build sagegen, sagegen_random_folder ($build_dir)"
if (( build )) && ! { cmake -S . -B "$build_dir" -G Ninja ${torch_prefix:+-DCMAKE_PREFIX_PATH="$torch_prefix"} \
         -DCMAKE_BUILD_TYPE=Release -DSAGEGEN_CUDA=ON -DSAGEGEN_CUDA_ARCHS=90a \
         -DSAGEGEN_OPENCV=OFF -DSAGEGEN_BUILD_TESTS=OFF -DSAGEGEN_BUILD_BENCH=OFF \
         "${sentencepiece_flags[@]}" &&
       cmake --build "$build_dir" -j "${SAGEGEN_JOBS:-$(nproc)}" \
         --target sagegen sagegen_random_folder; } >"$build_log" 2>&1; then
  grep -E 'error|Error' "$build_log" | head -30
  cp "$build_log" "$OUT/"
  note "build: FAILED (see build.log)"; exit 1
fi
sagegen="$build_dir/app/sagegen"

# ---- the random folder -------------------------------------------------------------------------
folder="$work/$(basename "$skeleton" -Diffusers)-random"
rm -rf "$work"; mkdir -p "$work"
stamp "random folder -> $folder (disk: $(df -h --output=avail "$work" | tail -1 | tr -d ' ') free)"
t0=$(date +%s.%N)
if ! "$build_dir/app/sagegen_random_folder" --like "$skeleton" --tokenizer "$tiny_folder/tokenizer" \
       --out "$folder" --device "$device" --dtype bfloat16 >>"$runs_log" 2>&1; then
  tail -20 "$runs_log"
  note "random folder: FAILED (see runs.log)"; exit 1
fi
note "random folder: $(du -sh "$folder" | cut -f1) written in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s ($(ls "$folder"/*/ | grep -c '\.safetensors$') safetensors files)"

# ---- one generation per variant ----------------------------------------------------------------
prompt="A cat walks on the grass, realistic style."
negative="Bright tones, overexposed, static, blurred details, subtitles, worst quality, low quality"
last=''
for variant in ${variants//,/ }; do
  stamp "sagegen --attention $variant, $size x $frames frames, $steps steps"
  t0=$(date +%s.%N)
  # A bound per run, so one that hangs still leaves time for the others and the summary.
  timeout "${SAGEGEN_RUN_TIMEOUT:-200}" "$sagegen" --model "$folder" -p "$prompt" -n "$negative" \
    --size "$size" --frames "$frames" --steps "$steps" --cfg-scale 5 -s 42 --device "$device" \
    --attention "$variant" -o "$work/$variant.mp4" --overwrite >>"$runs_log" 2>&1
  rc=$?
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  echo "$variant wall $wall" >>"$work/walls.txt"
  if (( rc != 0 )); then
    note "$variant: sagegen FAILED (rc=$rc, after $wall s)"; tail -15 "$runs_log"
  else
    last=$variant
  fi
done

# ---- summary -----------------------------------------------------------------------------------
stamp "summary"
python3 - "$work" "$OUT" "$variants" "$last" <<'EOF' | tee -a "$summary"
import glob, json, os, sys
work, out, variants, last = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
walls = dict(line.split(" wall ") for line in open(os.path.join(work, "walls.txt")).read().splitlines())
sidecars = {}
def gb(stage, key):
    v = stage.get(key)
    return "n/a" if v is None else f"{v / 1e9:.1f}"
print("| variant | load s (peak GB) | text encoding s (peak GB) | denoising s, s/step (peak GB) | VAE decode s (peak GB) | sagegen process s |")
print("|---|---|---|---|---|---|")
for v in variants:
    path = os.path.join(work, v + ".json")
    if not os.path.exists(path):
        print(f"| {v} | failed | | | | {walls.get(v, '?')} |"); continue
    s = json.load(open(path)); sidecars[v] = s
    t = s["timings"]; stages = {st["name"]: st for st in t["stages"]}
    steps = t["step_seconds"]
    # The first step carries one-off work (cuDNN/cuBLAS plans, kernel loads): s/step from the rest.
    rest = steps[1:] or steps
    per_step = sum(rest) / len(rest)
    cell = lambda st: f"{st['seconds']:.1f} ({gb(st, 'peak_allocated_bytes')})"
    d = stages["denoising"]
    print(f"| {v} | {cell(t['load'])} | {cell(stages['text encoding'])} | "
          f"{d['seconds']:.1f}, {per_step:.3f} ({gb(d, 'peak_allocated_bytes')}) | "
          f"{cell(stages['VAE decoding'])} | {walls.get(v, '?')} |")
    print(f"  {v}: steps {', '.join(f'{x:.3f}' for x in steps)}; reserved peaks GB: "
          + ", ".join(f"{st['name']} {gb(st, 'peak_reserved_bytes')}" for st in [t['load']] + t['stages'])
          + f"; attention calls {s['attention_calls']}")
json.dump(sidecars, open(os.path.join(out, "sidecars.json"), "w"), indent=1)
if last:
    # sagegen's strip holds every frame side by side (81 x 832 pixels wide, ~100 MB of noise):
    # 9 of its frames at 1/4 size come back instead.
    full = os.path.join(work, last + "_strip.png")
    try:
        from PIL import Image
        big = Image.open(full)
        width, count = sidecars[last]["width"], sidecars[last]["frames"]
        pick = sorted({round(i * (count - 1) / 8) for i in range(9)})
        scale = 4 if width >= 64 else 1
        tiles = [big.crop((i * width, 0, (i + 1) * width, big.height)).reduce(scale) for i in pick]
        strip = Image.new("RGB", (sum(t.width for t in tiles), tiles[0].height))
        x = 0
        for tile in tiles:
            strip.paste(tile, (x, 0)); x += tile.width
        strip.save(os.path.join(out, "strip.png"))
        print(f"strip.png: frames {pick} of {last} at 1/{scale} size (sagegen's strip of all "
              f"{count}: {os.path.getsize(full) / 1e6:.1f} MB)")
    except Exception as e:  # the figures above matter more than the picture
        print(f"strip.png not made from {full}: {e}")
EOF
rm -rf "$work"
stamp "done"

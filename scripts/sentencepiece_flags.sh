# Sourced by the GPU-machine scripts (gpu_suite.sh, gpu_train.sh, gpu_multi.sh): sets the CMake
# flags for sentencepiece (umT5's tokenizer, Wan2.1 folders) in the array sentencepiece_flags.
# The GPU machine has no package. A copy made on the CPU machine (bash
# scripts/bundle_sentencepiece.sh .deps/sentencepiece; carry .deps/sentencepiece) is used when
# present, else the build goes without it (Wan folders then fail at their tokenizer, naming the
# reason; the kernel suites and the built-in model do not need it).
sentencepiece_flags=(-DSAGEGEN_SENTENCEPIECE=OFF)
if [[ -f /usr/include/sentencepiece_processor.h ]]; then
  sentencepiece_flags=(-DSAGEGEN_SENTENCEPIECE=ON)
elif [[ -f .deps/sentencepiece/include/sentencepiece_processor.h ]]; then
  sentencepiece_flags=(-DSAGEGEN_SENTENCEPIECE=ON
    -DSAGEGEN_SENTENCEPIECE_ROOT="$PWD/.deps/sentencepiece")
fi

// Several processes for one generation (docs/multi-gpu.md): `sagegen --gpus N ...` starts N
// copies of itself with torchrun's variables set, and each copy joins the process group.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sagegen/parallel/process_group.h"
#include "sagegen/request.h"

namespace sagegen::cli {

// Removes `--gpus N` from args and returns N; nullopt when absent. A bad N is a UsageError.
std::optional<int> take_gpus_flag(std::vector<std::string>& args);

// Starts N copies of this executable with `args` and RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/
// MASTER_PORT (a free local port) set; each sees only its GPU as cuda:0. Waits for all: once one
// fails, the others are stopped (SIGTERM) after the collective timeout. Returns rank 0's exit
// code, or the first failure's.
int launch_ranks(int ranks, const std::vector<std::string>& args);

// Under a launcher (WORLD_SIZE set): makes only this rank's GPU visible (LOCAL_RANK-th of
// CUDA_VISIBLE_DEVICES, or of all). Must run before anything touches CUDA.
void narrow_visible_gpus_for_rank();

// Joins the group the environment describes, on the device `load` asks for; nullptr without one.
std::shared_ptr<parallel::ProcessGroup> join_process_group(const LoadOptions& load);

}  // namespace sagegen::cli

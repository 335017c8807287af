// Classifier-free guidance split over ranks (batch parallelism): with an even number of ranks N,
// ranks [0, N/2) compute the conditional branch and ranks [N/2, N) the unconditional one, each a
// batch of 1, each half running Ulysses over its N/2 ranks (for N = 2: one whole branch a rank,
// no all-to-all at all). After the forward pass, rank r and rank r + N/2 swap their branch's
// output (one all-gather of a latent-sized [1, C, F, H, W] tensor between the two), so every
// rank holds both halves and applies the guidance identically: the latents stay identical on
// all ranks, as with plain Ulysses. docs/multi-gpu.md has the picture.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sagegen/parallel/process_group.h"

namespace sagegen::parallel {

enum class CfgParallelMode { kAuto, kOff };

// SAGEGEN_CFG_PARALLEL: "auto" (default: split CFG whenever the rank count is even) or "off"
// (plain Ulysses over all ranks, for comparison). Another value throws std::invalid_argument
// naming the variable.
CfgParallelMode cfg_parallel_mode_from_env();

class CfgParallel {
 public:
  // nullptr when `world` has an odd number of ranks (or one) or mode is kOff: then CFG rides in
  // the batch of every rank. Otherwise forms the branch group and the pair group; every rank of
  // `world` must call it (it returns when the subgroups' members all joined).
  static std::unique_ptr<CfgParallel> create(ProcessGroup& world, CfgParallelMode mode);

  int branch() const { return branch_; }  // 0: conditional, 1: unconditional
  // The ranks computing this rank's branch, for Ulysses; nullptr when it is this rank alone.
  const std::shared_ptr<ProcessGroup>& branch_group() const { return branch_group_; }
  int world_size() const { return world_size_; }

  // Runs `forward_branch(branch())`, which must return this branch's [1, ...] output, and returns
  // both branches' outputs [2, ...] (conditional first) on every rank.
  at::Tensor run(const std::function<at::Tensor(int branch)>& forward_branch) const;

  // For the timing counters: the groups this split talks over (branch group, pair group).
  std::vector<ProcessGroup*> groups() const;

 private:
  CfgParallel() = default;
  int branch_ = 0;
  int world_size_ = 1;
  std::shared_ptr<ProcessGroup> branch_group_;
  std::shared_ptr<ProcessGroup> pair_group_;  // {r, r + N/2}: cond's rank first
};

}  // namespace sagegen::parallel

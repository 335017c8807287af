#include "sagegen/parallel/cfg_parallel.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <stdexcept>

namespace sagegen::parallel {

CfgParallelMode cfg_parallel_mode_from_env() {
  const char* text = std::getenv("SAGEGEN_CFG_PARALLEL");
  if (text == nullptr || std::string(text).empty() || std::string(text) == "auto") {
    return CfgParallelMode::kAuto;
  }
  if (std::string(text) == "off") return CfgParallelMode::kOff;
  throw std::invalid_argument(fmt::format(
      "environment variable SAGEGEN_CFG_PARALLEL='{}': expected 'auto' or 'off'", text));
}

std::unique_ptr<CfgParallel> CfgParallel::create(ProcessGroup& world, CfgParallelMode mode) {
  const int n = world.size();
  if (mode == CfgParallelMode::kOff || n < 2 || n % 2 != 0) return nullptr;
  const int half = n / 2;
  std::unique_ptr<CfgParallel> split(new CfgParallel());
  split->world_size_ = n;
  split->branch_ = world.rank() / half;
  const int local = world.rank() % half;
  // Every rank forms its branch group first, then its pair: no member waits on a group whose
  // other members are still forming another one.
  if (half > 1) {
    std::vector<int> members;
    for (int r = 0; r < half; ++r) members.push_back(split->branch_ * half + r);
    split->branch_group_ = world.subgroup(members, fmt::format("cfg-branch-{}", split->branch_));
  }
  split->pair_group_ = world.subgroup({local, local + half}, fmt::format("cfg-pair-{}", local));
  if (world.rank() == 0) {
    spdlog::info("CFG split over ranks: {} rank(s) a branch{}", half,
                 half > 1 ? " (Ulysses inside each)" : ", no all-to-all");
  }
  return split;
}

at::Tensor CfgParallel::run(const std::function<at::Tensor(int branch)>& forward_branch) const {
  const at::Tensor mine = forward_branch(branch_);
  TORCH_CHECK(mine.dim() >= 1 && mine.size(0) == 1, "CfgParallel::run: a branch's output must "
              "have batch 1, got ", mine.sizes());
  // all_gather concatenates in pair rank order: the conditional rank's output first.
  return pair_group_->all_gather(mine);
}

std::vector<ProcessGroup*> CfgParallel::groups() const {
  std::vector<ProcessGroup*> out;
  if (branch_group_) out.push_back(branch_group_.get());
  out.push_back(pair_group_.get());
  return out;
}

}  // namespace sagegen::parallel

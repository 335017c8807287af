// A group of processes that generate one output together (sequence parallelism), over the
// distributed engine libtorch ships: c10d's TCPStore for the rendezvous, then ProcessGroupGloo on
// the CPU or ProcessGroupNCCL on CUDA. c10d's headers stay out of this one, so the rest of the
// project compiles without them.
//
// Launch convention (torchrun's): RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, optional
// LOCAL_RANK. Every collective has a timeout: a rank that died or hangs makes the others fail
// with a c10::Error naming the operation, never wait forever.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sagegen::parallel {

struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // LOCAL_RANK, else RANK
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// nullopt when WORLD_SIZE is not set (a plain single process). A variable that is set but not a
// number, or out of range (RANK >= WORLD_SIZE, port outside 1..65535), throws std::invalid_argument
// naming it.
std::optional<LaunchEnvironment> launch_environment_from_env();

// SAGEGEN_DIST_TIMEOUT_S (seconds, default 600: ranks wait for each other's model load at the
// first collective, and a 14B checkpoint takes minutes to read). Bad values throw naming it.
std::chrono::milliseconds collective_timeout_from_env();

// Which c10d backends this build has ("gloo", "nccl"); the others need headers at build time
// (docs/multi-gpu.md).
bool has_gloo();
bool has_nccl();

class ProcessGroup {
 public:
  // Rendezvous through a TCPStore served by rank 0, then a Gloo (CPU) or NCCL (CUDA) backend.
  // Throws c10::Error when a peer does not show up within `timeout`, or when this build lacks
  // the backend the device needs.
  static std::shared_ptr<ProcessGroup> connect(const LaunchEnvironment& env, c10::Device device,
                                               std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  // A group of the ranks `members` (ranks of this group, ascending), over a PrefixStore named
  // `name` of this group's TCPStore and a backend of its own (as torch.distributed.new_group).
  // Only the members call it, each with the same arguments; it returns when all of them joined.
  // A member's rank in the new group is its index in `members`.
  std::shared_ptr<ProcessGroup> subgroup(const std::vector<int>& members, const std::string& name);

  int rank() const;
  int size() const;
  const std::string& backend_name() const;

  // Equal splits along dim 0: input [size * n, ...] contiguous; chunk j goes to rank j, and
  // chunk i of the result came from rank i.
  at::Tensor all_to_all(const at::Tensor& input);
  // Every rank's `input` (same shape everywhere), concatenated along dim 0 in rank order.
  at::Tensor all_gather(const at::Tensor& input);
  void barrier();

  // Seconds spent inside all_to_all/all_gather since the last reset (the device synchronised
  // around each, so only meaningful in timing runs: see set_timing).
  void set_timing(bool enabled);
  double communication_seconds() const;
  // Bytes this rank sent to others in all_to_all and all_gather (ring all-gather: (size - 1)
  // times its input).
  std::int64_t communication_bytes() const;
  void reset_counters();

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sagegen::parallel

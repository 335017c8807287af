// Ulysses sequence parallelism (DeepSpeed-Ulysses, arXiv 2309.14509): the DiT's tokens are split
// along the sequence over the ranks; before self-attention one all-to-all turns "my tokens, all
// heads" into "all tokens, my heads", so each rank runs the unchanged attention call on the
// full sequence for its share of the heads, and one all-to-all turns the output back.
//
// Uneven sizes by padding, never seen by the attention call:
// - tokens: L is padded to N * S (S = ceil(L / N)); the pad rows sit at the end of the last
//   ranks' shards, are dropped after the first all-to-all (the kernel sees exactly L keys, as
//   the one-rank run does) and come back as zeros.
// - heads: H is padded to N * Hr (Hr = ceil(H / N)); rank r owns heads [r*Hr, (r+1)*Hr) and calls
//   attention only on those < H (a rank may own none and then makes no call).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "sagegen/parallel/process_group.h"

namespace sagegen::parallel {

// Which tokens of a `length`-token sequence rank `rank` of `world` holds.
struct SequenceShard {
  std::int64_t length = 0;        // real tokens, all ranks together
  std::int64_t shard_length = 0;  // S = ceil(length / world), the same on every rank
  int rank = 0;
  int world = 1;

  std::int64_t begin() const { return shard_length * rank; }
  std::int64_t padded_length() const { return shard_length * world; }
  std::int64_t real_tokens() const;  // of this shard: S, fewer, or 0 at the end
};
SequenceShard plan_sequence_shard(std::int64_t length, int rank, int world);

struct HeadShare {
  int heads = 0;     // H
  int per_rank = 0;  // Hr = ceil(H / world)
  int rank = 0;
  int begin() const { return per_rank * rank; }
  int real_heads() const;  // of this rank's Hr: those below H
};
HeadShare plan_head_share(int heads, int rank, int world);

// The layout steps around the two all-to-alls, without communication (tests run them through a
// simulated exchange). x: this rank's [B, S, H, D]; result [world, B, S, Hr, D], chunk j for rank j.
at::Tensor pack_tokens_for_heads(const at::Tensor& x, int world);
// received [world, B, S, Hr, D] (chunk i from rank i) -> [B, L, real heads, D]
at::Tensor unpack_full_sequence(const at::Tensor& received, const SequenceShard& shard,
                                const HeadShare& heads);
// y [B, L, real heads, D] -> [world, B, S, Hr, D], chunk j holding rank j's tokens
at::Tensor pack_heads_for_tokens(const at::Tensor& y, const SequenceShard& shard,
                                 const HeadShare& heads);
// received [world, B, S, Hr, D] (chunk i: heads of rank i) -> [B, S, H, D]
at::Tensor unpack_local_tokens(const at::Tensor& received, int heads);

// [B, L, ...] -> this rank's [B, S, ...], zero rows past L.
at::Tensor take_shard(const at::Tensor& full, const SequenceShard& shard);

using AttentionFn =
    std::function<at::Tensor(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v)>;

// One forward pass's sequence split: made by the model with its token count, handed to the
// self-attention call sites.
class UlyssesAttention {
 public:
  UlyssesAttention(ProcessGroup& group, std::int64_t length);

  const SequenceShard& shard() const { return shard_; }
  // q, k, v: this rank's [B, S, H, D] (NHD). `attend` gets [B, L, Hr', D] and returns the same
  // shape. Returns this rank's [B, S, H, D].
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const AttentionFn& attend) const;
  // [B, L, ...] -> this rank's [B, S, ...]
  at::Tensor take(const at::Tensor& full) const { return take_shard(full, shard_); }
  // Every rank's [B, S, ...] -> [B, L, ...] on every rank.
  at::Tensor gather(const at::Tensor& local) const;

 private:
  ProcessGroup& group_;
  SequenceShard shard_;
};

}  // namespace sagegen::parallel

#include "sagegen/parallel/ulysses.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace sagegen::parallel {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Zero-pads dim `dim` of x up to `size`.
at::Tensor pad_dim(const at::Tensor& x, int64_t dim, std::int64_t size) {
  const std::int64_t missing = size - x.size(dim);
  if (missing == 0) return x;
  std::vector<std::int64_t> pad_shape = x.sizes().vec();
  pad_shape[dim] = missing;
  return at::cat({x, at::zeros(pad_shape, x.options())}, dim);
}

}  // namespace

std::int64_t SequenceShard::real_tokens() const {
  return std::clamp<std::int64_t>(length - begin(), 0, shard_length);
}

SequenceShard plan_sequence_shard(std::int64_t length, int rank, int world) {
  TORCH_CHECK(world >= 1 && rank >= 0 && rank < world && length >= 1,
              "plan_sequence_shard: need length >= 1 and 0 <= rank < world, got length ", length,
              ", rank ", rank, ", world ", world);
  return SequenceShard{length, ceil_div(length, world), rank, world};
}

int HeadShare::real_heads() const {
  return static_cast<int>(std::clamp(heads - begin(), 0, per_rank));
}

HeadShare plan_head_share(int heads, int rank, int world) {
  TORCH_CHECK(world >= 1 && rank >= 0 && rank < world && heads >= 1,
              "plan_head_share: need heads >= 1 and 0 <= rank < world, got heads ", heads,
              ", rank ", rank, ", world ", world);
  return HeadShare{heads, static_cast<int>(ceil_div(heads, world)), rank};
}

at::Tensor pack_tokens_for_heads(const at::Tensor& x, int world) {
  TORCH_CHECK(x.dim() == 4, "pack_tokens_for_heads: x must be [B, S, H, D], got ", x.sizes());
  const std::int64_t per_rank = ceil_div(x.size(2), world);
  const at::Tensor padded = pad_dim(x, 2, per_rank * world);  // [B, S, N*Hr, D]
  return padded.unflatten(2, {world, per_rank}).permute({2, 0, 1, 3, 4}).contiguous();
}

at::Tensor unpack_full_sequence(const at::Tensor& received, const SequenceShard& shard,
                                const HeadShare& heads) {
  TORCH_CHECK(received.dim() == 5 && received.size(0) == shard.world &&
                  received.size(2) == shard.shard_length && received.size(3) == heads.per_rank,
              "unpack_full_sequence: expected [", shard.world, ", B, ", shard.shard_length, ", ",
              heads.per_rank, ", D], got ", received.sizes());
  // [N, B, S, Hr, D] -> [B, N*S, Hr, D]: rank i's tokens come i-th, as in the unsplit sequence.
  const at::Tensor full = received.permute({1, 0, 2, 3, 4}).flatten(1, 2);
  return full.slice(1, 0, shard.length).slice(2, 0, heads.real_heads());
}

at::Tensor pack_heads_for_tokens(const at::Tensor& y, const SequenceShard& shard,
                                 const HeadShare& heads) {
  TORCH_CHECK(y.dim() == 4 && y.size(1) == shard.length && y.size(2) == heads.real_heads(),
              "pack_heads_for_tokens: expected [B, ", shard.length, ", ", heads.real_heads(),
              ", D], got ", y.sizes());
  const at::Tensor padded = pad_dim(pad_dim(y, 1, shard.padded_length()), 2, heads.per_rank);
  return padded.unflatten(1, {shard.world, shard.shard_length})
      .permute({1, 0, 2, 3, 4})
      .contiguous();  // [N, B, S, Hr, D]
}

at::Tensor unpack_local_tokens(const at::Tensor& received, int heads) {
  TORCH_CHECK(received.dim() == 5, "unpack_local_tokens: expected [N, B, S, Hr, D], got ",
              received.sizes());
  // [N, B, S, Hr, D] -> [B, S, N*Hr, D]: rank i's heads come i-th.
  return received.permute({1, 2, 0, 3, 4}).flatten(2, 3).slice(2, 0, heads);
}

at::Tensor take_shard(const at::Tensor& full, const SequenceShard& shard) {
  TORCH_CHECK(full.dim() >= 2 && full.size(1) == shard.length, "take_shard: expected [B, ",
              shard.length, ", ...], got ", full.sizes());
  return pad_dim(full, 1, shard.padded_length()).slice(1, shard.begin(),
                                                        shard.begin() + shard.shard_length);
}

UlyssesAttention::UlyssesAttention(ProcessGroup& group, std::int64_t length)
    : group_(group), shard_(plan_sequence_shard(length, group.rank(), group.size())) {}

at::Tensor UlyssesAttention::attend(const at::Tensor& q, const at::Tensor& k,
                                    const at::Tensor& v, const AttentionFn& attend) const {
  TORCH_CHECK(q.dim() == 4 && q.size(1) == shard_.shard_length && k.sizes() == q.sizes() &&
                  v.sizes() == q.sizes(),
              "UlyssesAttention: q, k, v must all be [B, ", shard_.shard_length, ", H, D], got ",
              q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  const int world = shard_.world;
  const HeadShare heads = plan_head_share(static_cast<int>(q.size(2)), shard_.rank, world);
  // q, k and v travel in one all-to-all: [3, N, B, S, Hr, D] -> chunks per destination rank.
  const at::Tensor packed = at::stack({pack_tokens_for_heads(q, world),
                                       pack_tokens_for_heads(k, world),
                                       pack_tokens_for_heads(v, world)},
                                      1);  // [N, 3, B, S, Hr, D]
  const at::Tensor received = group_.all_to_all(packed);
  // Contiguous, as the unsplit model hands them over: the call itself sees no difference.
  const auto full = [&](int i) {
    return unpack_full_sequence(received.select(1, i), shard_, heads).contiguous();
  };
  at::Tensor out;
  if (heads.real_heads() > 0) {
    out = attend(full(0), full(1), full(2));  // [B, L, Hr', D]
  } else {
    out = at::empty({q.size(0), shard_.length, 0, q.size(3)}, q.options());
  }
  return unpack_local_tokens(group_.all_to_all(pack_heads_for_tokens(out, shard_, heads)),
                             heads.heads);
}

at::Tensor UlyssesAttention::gather(const at::Tensor& local) const {
  TORCH_CHECK(local.dim() >= 2 && local.size(1) == shard_.shard_length, "UlyssesAttention::"
              "gather: expected [B, ", shard_.shard_length, ", ...], got ", local.sizes());
  // all_gather concatenates along dim 0: move the token dim first, then back.
  const at::Tensor gathered = group_.all_gather(local.transpose(0, 1));  // [N*S, B, ...]
  return gathered.slice(0, 0, shard_.length).transpose(0, 1).contiguous();
}

}  // namespace sagegen::parallel

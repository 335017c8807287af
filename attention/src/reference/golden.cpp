// The CPU golden model: docs/numerics.md step by step, in FP32 libtorch on the CPU.
// Vectorised over batch, heads and all Q rows; the only loop is the one over K blocks, because
// the online softmax and the two-level accumulation are defined per K block.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <vector>

#include "problem.h"
#include "reference/dense.h"
#include "reference/layout.h"
#include "sageattn/quant.h"
#include "sageattn/reference.h"
#include "sageattn/variants.h"

namespace sageattn::reference {
namespace {

constexpr double kLog2EDouble = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

// sm_scale * log2(e), rounded once to FP32: the factor the kernels fold into the Q scale.
float scale_log2(double sm_scale) { return static_cast<float>(sm_scale * kLog2EDouble); }

void check_variant(Variant variant, const char* who) {
  TORCH_CHECK(variant != Variant::kAuto, "sageattn::reference::", who,
              ": options.variant is auto; pick a concrete variant (the caller decides what auto "
              "means on its device)");
}

// Mean over the tokens of x [B, H, L, D] per channel -> [B, H, 1, D]: summed in FP64, divided
// in FP64, rounded to FP32 once. The CUDA channel_stats kernel computes the same formula in its
// own order; fp16/bf16 values sum exactly in FP64, so the order does not matter and both get the
// correctly rounded mean, bit for bit (docs/numerics.md, step 1). A float32 mean would depend
// on the order, and one last-bit difference moves k - mean to another INT8 value.
at::Tensor channel_mean(const at::Tensor& x) {
  const at::Tensor sum = x.to(at::kDouble).sum(2, true);
  return (sum / static_cast<double>(x.size(2))).to(at::kFloat);
}

// Mean of each Q block's valid rows: q [B, H, L, D] -> [B, H, blocks, D], the blocks starting
// lead_rows before row 0 (KernelNumerics::q_lead_rows).
at::Tensor q_block_means(const at::Tensor& q, int64_t block_q, int64_t lead_rows) {
  const int64_t len = q.size(2);
  const int64_t blocks = q_block_count(len, static_cast<int>(block_q), lead_rows);
  const at::Tensor padded =
      at::constant_pad_nd(q, {0, 0, lead_rows, blocks * block_q - len - lead_rows}, 0);
  const at::Tensor sums = padded.view({q.size(0), q.size(1), blocks, block_q, q.size(3)}).sum(3);
  // Each block's padded rows [start, start + block_q) hold the valid rows [lead, lead + len).
  const at::Tensor start = at::arange(blocks, at::kLong) * block_q;
  const at::Tensor first = at::clamp_min(start, lead_rows);
  const at::Tensor end = at::clamp_max(start + block_q, lead_rows + len);
  const at::Tensor rows = (end - first).to(at::kFloat).view({1, 1, blocks, 1});
  return sums / rows;
}

// The Q block of every row: the per-block Q groups (quant::q_token_groups says how the lead
// moves them).
at::Tensor q_block_of_row(int64_t len_q, TileShape tiles, int64_t lead_rows) {
  return quant::q_token_groups(len_q, Granularity::kPerBlock, tiles, lead_rows).group_of_token;
}

quant::IntFormat int_format(Variant variant) {
  return variant_facts(variant).qk_bits == 4 ? quant::IntFormat::kInt4 : quant::IntFormat::kInt8;
}

// sage1's P and V are fp16; the sage2 variants' FP8 E4M3 (variants.h).
bool fp16_pv(Variant variant) { return variant_facts(variant).pv == PvOperand::kFp16; }

// The stored INT4 operand is the packed one; route through it so the golden model exercises
// the exact bytes a kernel reads.
at::Tensor through_storage(const at::Tensor& values, quant::IntFormat format) {
  if (format == quant::IntFormat::kInt8) return values;
  return quant::unpack_int4(quant::pack_int4(values), values.size(-1));
}

// Steps 1-3 on HND float32 CPU tensors.
// q_lead_rows: padding rows before q's first row in its first Q block (KernelNumerics).
QuantizedQK quantize_qk_hnd(const at::Tensor& q, const at::Tensor& k, const Problem& p,
                            Variant variant, const AttentionOptions& options, TileShape tiles,
                            int64_t q_lead_rows) {
  QuantizedQK out;
  out.format = int_format(variant);
  const float log2_scale = scale_log2(p.sm_scale);

  // 1. K smoothing: softmax is invariant to adding a constant per row of S, which q . k_mean is.
  out.k_mean = options.smooth_k ? channel_mean(k) : at::zeros({p.batch, p.heads_kv, 1, p.head_dim});
  const at::Tensor k_hat = k - out.k_mean;

  // 2. Q smoothing per Q block; delta_s restores the removed q_mean . k_hat exactly in FP32.
  const int64_t q_blocks = q_block_count(p.len_q, tiles.block_q, q_lead_rows);
  out.q_mean = p.smooth_q ? q_block_means(q, tiles.block_q, q_lead_rows)
                          : at::zeros({p.batch, p.heads_q, q_blocks, p.head_dim});
  const at::Tensor q_hat =
      q - out.q_mean.index_select(2, q_block_of_row(p.len_q, tiles, q_lead_rows));
  out.delta_s = p.smooth_q
                    ? at::matmul(out.q_mean, expand_kv_heads(k_hat, p.heads_q).transpose(2, 3)) *
                          log2_scale
                    : at::zeros({p.batch, p.heads_q, q_blocks, p.len_k});

  // 3. Symmetric quantization over the token groups of the tiles.
  out.q_groups = quant::q_token_groups(p.len_q, p.granularity, tiles, q_lead_rows);
  out.k_groups = quant::k_token_groups(p.len_k, p.granularity, tiles);
  quant::IntQuantized qq = quant::quantize_symmetric(q_hat, out.q_groups, out.format);
  quant::IntQuantized kq = quant::quantize_symmetric(k_hat, out.k_groups, out.format);
  out.q_values = through_storage(qq.values, out.format);
  out.k_values = through_storage(kq.values, out.format);
  out.q_scales = qq.scales * log2_scale;
  out.k_scales = kq.scales;
  return out;
}

// Step 5's V operand on an HND float32 CPU tensor.
QuantizedV quantize_v_hnd(const at::Tensor& v, Variant variant, const AttentionOptions& options) {
  QuantizedV out;
  out.mean = options.smooth_v ? channel_mean(v) : at::zeros({v.size(0), v.size(1), 1, v.size(3)});
  const at::Tensor centred = v - out.mean;
  if (fp16_pv(variant)) {
    out.values = centred.to(at::kHalf).to(at::kFloat);
    out.scale = at::ones_like(out.mean);
    return out;
  }
  const at::Tensor absmax = centred.abs().amax(2, true);  // per channel, over tokens
  const at::Tensor inv = at::where(absmax > 0, kE4M3Max / absmax, at::zeros_like(absmax));
  out.values = quant::e4m3_round(centred * inv);
  out.scale = absmax / kE4M3Max;
  return out;
}

// The online softmax's state over some keys: running max m, row sum l, unnormalized O (buf).
struct SoftmaxState {
  at::Tensor m, l, buf;
};

// Key split (tiles.h KeySplit): the rows whose tile (in the kernel's launch order) is split,
// [B, H, L_q] bool, for the q rows [row_offset, row_offset + L_q) of a problem of full_len_q
// whose Q blocks start lead_rows before row 0.
at::Tensor split_rows(const Problem& p, const KeySplit& split, int64_t block_q, int64_t row_offset,
                      int64_t full_len_q, int64_t lead_rows) {
  const int64_t q_blocks = q_block_count(full_len_q, static_cast<int>(block_q), lead_rows);
  const at::Tensor bh = at::arange(p.batch * p.heads_q, at::kLong).view({p.batch, p.heads_q, 1});
  const at::Tensor qb = at::floor_divide(at::arange(lead_rows + row_offset,
                                                    lead_rows + row_offset + p.len_q, at::kLong),
                                         block_q)
                            .view({1, 1, p.len_q});
  return (bh * q_blocks + qb).ge(split.first_tile);
}

// The merge of the splits' states in split order (wgmma_key_split.cuh): m = max_s m_s,
// w_s = exp2(m_s - m) (0 where m_s = -inf), O and l the w_s-weighted sums from zero.
SoftmaxState merge_splits(const std::vector<SoftmaxState>& parts) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  at::Tensor m = parts.front().m;
  for (const SoftmaxState& part : parts) m = at::maximum(m, part.m);
  const at::Tensor m_safe = at::where(m.eq(-kInf), at::zeros_like(m), m);
  SoftmaxState out{m, at::zeros_like(parts.front().l), at::zeros_like(parts.front().buf)};
  for (const SoftmaxState& part : parts) {
    const at::Tensor w = at::exp2(part.m - m_safe);  // exp2(-inf) = 0
    out.l = at::addcmul(out.l, part.l, w);
    out.buf = at::addcmul(out.buf, part.buf, w.unsqueeze(-1));
  }
  return out;
}

// Steps 4-7: online softmax over K blocks with two-level accumulation. q rows are the absolute
// rows [row_offset, row_offset + L_q) of the problem (for the causal mask) of full_len_q rows.
AttentionResult quantized_attention_hnd(const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v, const Problem& p, Variant variant,
                                        const AttentionOptions& options,
                                        const KernelNumerics& numerics, int64_t row_offset,
                                        int64_t full_len_q) {
  const TileShape tiles = numerics.tiles;
  // The FP8 modes (tiles.h) apply to sage2's FP8 P only; sage1's P is fp16.
  const bool fp8_p = !fp16_pv(variant);
  const bool offset8 = fp8_p && numerics.p_scale == PScale::kExp2Offset8;
  const bool truncating =
      fp8_p && numerics.pv_accumulation == PvAccumulation::kWgmmaTruncating;
  const bool tensor_row_sum = fp8_p && numerics.row_sum == RowSum::kFp8PTensor;
  // q holds whole Q blocks from row_offset (golden_attention_rows), so only the problem's first
  // block has padding rows before q's first row.
  const int64_t local_lead = (numerics.q_lead_rows + row_offset) % tiles.block_q;
  const QuantizedQK qk = quantize_qk_hnd(q, k, p, variant, options, tiles, local_lead);
  const QuantizedV qv = quantize_v_hnd(v, variant, options);

  const at::Tensor q_int = qk.q_values.to(at::kFloat);                        // [B, H, Lq, D]
  const at::Tensor q_scale = quant::scale_per_token(qk.q_scales, qk.q_groups).unsqueeze(-1);
  const at::Tensor k_int = expand_kv_heads(qk.k_values.to(at::kFloat), p.heads_q);
  const at::Tensor k_scale = expand_kv_heads(quant::scale_per_token(qk.k_scales, qk.k_groups)
                                                 .unsqueeze(2), p.heads_q);  // [B, H, 1, Lk]
  const at::Tensor v_values = expand_kv_heads(qv.values, p.heads_q);
  const at::Tensor row_block = q_block_of_row(p.len_q, tiles, local_lead);

  constexpr float kInf = std::numeric_limits<float>::infinity();
  const int64_t last_row = row_offset + p.len_q - 1;

  // The online softmax over the keys [key_first, key_end), from a fresh state.
  const auto softmax_over = [&](int64_t key_first, int64_t key_end) {
    at::Tensor m = at::full({p.batch, p.heads_q, p.len_q}, -kInf);
    at::Tensor l = at::zeros({p.batch, p.heads_q, p.len_q});
    at::Tensor buf = at::zeros({p.batch, p.heads_q, p.len_q, p.head_dim});
    for (int64_t key_begin = key_first; key_begin < key_end; key_begin += tiles.block_k) {
      // A K block wholly above the diagonal contributes P = 0 and alpha = 1: the kernels skip it.
      if (p.causal && key_begin > last_row) break;
      const int64_t keys = std::min<int64_t>(tiles.block_k, key_end - key_begin);

      // 4. S in base 2: exact integer dot product, then the two scales, then delta_s.
      at::Tensor s = at::matmul(q_int, k_int.narrow(2, key_begin, keys).transpose(2, 3));
      s = s * q_scale;
      s = s * k_scale.narrow(3, key_begin, keys);
      s = s + qk.delta_s.narrow(3, key_begin, keys).index_select(2, row_block);
      if (p.causal) s.masked_fill_(causal_mask(p.len_q, row_offset, key_begin, keys), -kInf);

      const at::Tensor m_new = at::maximum(m, s.amax(-1));
      // A row that has seen no key yet keeps m = -inf; subtract 0 there so exp2 never sees
      // (-inf) - (-inf).
      const at::Tensor m_safe = at::where(at::isinf(m_new), at::zeros_like(m_new), m_new);
      // kExp2Offset8: P = exp2(S - (m - 8)) in [0, 256], the offset subtracted from m in FP32
      // first (as the kernels do); l sums the same scaled P, so the 256 cancels in buf * (1 / l).
      const at::Tensor p_blk = offset8 ? at::exp2(s - (m_safe - kPExponentOffset).unsqueeze(-1))
                                       : at::exp2(s - m_safe.unsqueeze(-1));
      const at::Tensor alpha = at::exp2(m - m_safe);

      // 5. P operand: FP8 (sage2) with the static scale 448 or, with the offset, none; fp16
      // (sage1).
      const at::Tensor p_operand = !fp8_p    ? p_blk.to(at::kHalf).to(at::kFloat)
                                   : offset8 ? quant::e4m3_round(p_blk)
                                             : quant::e4m3_round(p_blk * kE4M3Max);
      // 6. Two-level accumulation: this block's product alone (exact FP32, or the wgmma FP8
      // accumulator's k32 chain), then into the FP32 buffer. The row sum either adds the FP32 P
      // or is that product's column of ones (RowSum::kFp8PTensor).
      const at::Tensor v_blk = v_values.narrow(2, key_begin, keys);
      const at::Tensor acc_blk = truncating ? quant::fp8_wgmma_block_product(p_operand, v_blk)
                                            : at::matmul(p_operand, v_blk);
      const at::Tensor l_blk =
          tensor_row_sum
              ? quant::fp8_wgmma_block_product(p_operand, at::ones({p.batch, p.heads_q, keys, 1}))
                    .squeeze(-1)
              : p_blk.sum(-1);
      l = l * alpha + l_blk;
      buf = buf * alpha.unsqueeze(-1) + acc_blk;
      m = m_new;
    }
    return SoftmaxState{m, l, buf};
  };
  // The kernel's split tiles (tiles.h KeySplit): each split over its key blocks from a fresh
  // state, merged; the other rows over all keys at once.
  const KeySplit& split = numerics.key_split;
  const at::Tensor split_row = split.splits > 1
                                   ? split_rows(p, split, tiles.block_q, row_offset, full_len_q,
                                                numerics.q_lead_rows)
                                   : at::zeros({p.batch, p.heads_q, p.len_q}, at::kBool);
  const bool any_split = split_row.any().item<bool>();
  SoftmaxState state;
  if (!split_row.all().item<bool>()) state = softmax_over(0, p.len_k);
  if (any_split) {
    TORCH_CHECK(!p.causal && split.k_blocks * tiles.block_k >= p.len_k &&
                    (split.k_blocks - 1) * tiles.block_k < p.len_k,
                "sageattn::reference: key split of ", split.k_blocks, " blocks of ", tiles.block_k,
                " keys does not fit L_k ", p.len_k, p.causal ? " (causal)" : "");
    std::vector<SoftmaxState> parts;
    for (int s = 0; s < split.splits; ++s) {
      parts.push_back(
          softmax_over(key_split_begin(split, s) * tiles.block_k,
                       std::min<int64_t>(key_split_begin(split, s + 1) * tiles.block_k, p.len_k)));
    }
    const SoftmaxState merged = merge_splits(parts);
    if (!state.m.defined()) {
      state = merged;
    } else {
      state.m = at::where(split_row, merged.m, state.m);
      state.l = at::where(split_row, merged.l, state.l);
      state.buf = at::where(split_row.unsqueeze(-1), merged.buf, state.buf);
    }
  }
  const at::Tensor& m = state.m;
  const at::Tensor& l = state.l;
  const at::Tensor& buf = state.buf;

  // 7. Undo the scales, add back the V mean.
  const at::Tensor v_factor = !fp8_p   ? at::ones_like(qv.scale)
                              : offset8 ? qv.scale  // the offset's 256 cancelled in buf * (1 / l)
                                        : qv.scale / kE4M3Max;  // the P scale 448 folds in here
  AttentionResult r;
  // buf times the correctly rounded 1 / l (not buf / l): the kernels take one reciprocal per
  // row (epilogue.cuh); the three products and the sum are each rounded once, in this order.
  r.out = buf * at::reciprocal(l).unsqueeze(-1) * expand_kv_heads(v_factor, p.heads_q) +
          expand_kv_heads(qv.mean, p.heads_q);
  // LSE of the unsmoothed scores: K smoothing shifted every row by sm_scale * q . k_mean
  // (Q smoothing's delta_s already restored its own part), so that shift is added back.
  const at::Tensor k_mean_shift =
      at::matmul(q, expand_kv_heads(qk.k_mean, p.heads_q).transpose(2, 3)).squeeze(-1) *
      static_cast<float>(p.sm_scale);
  at::Tensor log2_sum_exp = m + at::log2(l);
  // With the offset, l is 2^8 times the unscaled row sum.
  if (offset8) log2_sum_exp = log2_sum_exp - kPExponentOffset;
  r.lse = log2_sum_exp * static_cast<float>(kLn2) + k_mean_shift;
  return r;
}

AttentionResult golden_impl(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const AttentionOptions& options, Rows rows,
                            const KernelNumerics& numerics) {
  check_variant(options.variant, "golden_attention");
  Problem p = validate(q, k, v, options);
  // Narrow before the copy: a slice of a long sequence converts only its own rows.
  const at::Tensor qf = to_cpu_hnd(
      q.narrow(token_dim(options.layout), rows.begin, rows.end - rows.begin), options.layout,
      at::kFloat);
  const at::Tensor kf = to_cpu_hnd(k, options.layout, at::kFloat);
  const at::Tensor vf = to_cpu_hnd(v, options.layout, at::kFloat);
  const int64_t full_len_q = p.len_q;
  p.len_q = rows.end - rows.begin;

  AttentionResult r = is_quantized(options.variant)
                          ? quantized_attention_hnd(qf, kf, vf, p, options.variant, options,
                                                    numerics, rows.begin, full_len_q)
                          : dense_attention_hnd(qf, kf, vf, p, rows.begin);
  r.out = from_hnd(r.out, options.layout).to(q.device(), q.scalar_type());
  r.lse = options.return_lse ? r.lse.to(q.device(), at::kFloat) : at::Tensor();
  return r;
}

}  // namespace

AttentionResult golden_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const AttentionOptions& options, KernelNumerics numerics) {
  const int64_t len_q = q.dim() == 4 ? q.size(options.layout == Layout::kNHD ? 1 : 2) : 0;
  return golden_impl(q, k, v, options, Rows{0, len_q}, numerics);
}

AttentionResult golden_attention_rows(const at::Tensor& q, const at::Tensor& k,
                                      const at::Tensor& v, const AttentionOptions& options,
                                      int64_t row_begin, int64_t row_end,
                                      KernelNumerics numerics) {
  const TileShape tiles = numerics.tiles;
  const int64_t len_q = q.dim() == 4 ? q.size(token_dim(options.layout)) : 0;
  TORCH_CHECK(row_begin >= 0 && row_begin < row_end && row_end <= len_q,
              "sageattn::reference::golden_attention_rows: rows [", row_begin, ", ", row_end,
              ") are not inside [0, ", len_q, ")");
  const int64_t lead = numerics.q_lead_rows;
  TORCH_CHECK(lead >= 0 && lead < tiles.block_q,
              "sageattn::reference::golden_attention_rows: q_lead_rows ", lead,
              " is not in [0, block_q ", tiles.block_q, ")");
  TORCH_CHECK((row_begin == 0 || (row_begin + lead) % tiles.block_q == 0) &&
                  ((row_end + lead) % tiles.block_q == 0 || row_end == len_q),
              "sageattn::reference::golden_attention_rows: rows [", row_begin, ", ", row_end,
              ") must start on a Q block boundary (block_q ", tiles.block_q, ", ", lead,
              " padding rows before row 0) and end on one or at L_q ", len_q);
  return golden_impl(q, k, v, options, Rows{row_begin, row_end}, numerics);
}

QuantizedQK quantize_qk(const at::Tensor& q, const at::Tensor& k,
                        const AttentionOptions& options, TileShape tiles) {
  TORCH_CHECK(is_quantized(options.variant), "sageattn::reference::quantize_qk: variant ",
              to_string(options.variant), " has no quantized QK");
  const Problem p = validate(q, k, k, options);
  return quantize_qk_hnd(to_cpu_hnd(q, options.layout, at::kFloat),
                         to_cpu_hnd(k, options.layout, at::kFloat), p, options.variant, options,
                         tiles, /*q_lead_rows=*/0);
}

QuantizedV quantize_v(const at::Tensor& v, const AttentionOptions& options) {
  TORCH_CHECK(is_quantized(options.variant), "sageattn::reference::quantize_v: variant ",
              to_string(options.variant), " has no quantized V");
  return quantize_v_hnd(to_cpu_hnd(v, options.layout, at::kFloat), options.variant, options);
}

}  // namespace sageattn::reference

// cuda_backend.h on the kernels of this folder: the one selector (choose) that both
// why_unsupported and run use, and the launch glue from at::Tensor to the torch-free params.
#include "cuda_backend.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cuda/launch.h"
#include "cuda/tensor_map.h"
#include "sageattn/tiles.h"

namespace sageattn::cuda_backend {
namespace {

using cuda::ElemType;
using cuda::QkBits;

constexpr double kLog2EDouble = 1.4426950408889634;
constexpr int64_t kMaxHeadDim = 256;

enum class Path : std::uint8_t { kNone, kKernel };

// kMma: the mma.sync kernels (sm_80+); kWgmma: the sm_90a wgmma + TMA kernel (sage2-8b).
enum class Family : std::uint8_t { kMma, kWgmma };

struct Choice {
  Path path = Path::kNone;
  std::string reason;  // why nothing runs (path kNone)
  int padded_dim = 0;  // the kernel's head dim: q/k/v channels are zero-padded up to it
  Family family = Family::kMma;
  KernelNumerics numerics = kMmaNumerics;
};

// SAGEATTN_KERNEL_FAMILY picks the kernel family on sm_90 for A/B runs: unset or "auto" (wgmma
// where it runs), "mma" (force mma.sync), "wgmma" (refuse what wgmma cannot run),
// "wgmma2" (the two-consumer-warpgroup wgmma kernel, 128-row Q blocks).
enum class FamilyRequest : std::uint8_t { kAuto, kMma, kWgmma, kWgmma2 };
constexpr const char* kFamilyEnv = "SAGEATTN_KERNEL_FAMILY";

FamilyRequest family_request() {
  const char* text = std::getenv(kFamilyEnv);
  const std::string_view value = text == nullptr ? "" : text;
  if (value.empty() || value == "auto") return FamilyRequest::kAuto;
  if (value == "mma") return FamilyRequest::kMma;
  if (value == "wgmma") return FamilyRequest::kWgmma;
  if (value == "wgmma2") return FamilyRequest::kWgmma2;
  TORCH_CHECK(false, "sageattn: environment variable ", kFamilyEnv, "='", value,
              "' is not one of auto, mma, wgmma, wgmma2");
}

// Native head dims of the kernels; 0 when none holds head_dim.
int padded_head_dim(int64_t head_dim) {
  if (head_dim <= 64) return 64;
  if (head_dim <= 128) return 128;
  return 0;
}

bool is_kernel_variant(Variant v) {
  return v == Variant::kSage2Int8 || v == Variant::kSage2Int4 || v == Variant::kSage1;
}

std::string sm_name(int sm) { return "sm_" + std::to_string(sm); }

Choice choose(const Problem& p, Variant variant) {
  Choice c;
  if (!is_kernel_variant(variant)) {
    c.reason = std::string("the CUDA kernels run sage2-8b, sage2-4b and sage1, not ") +
               std::string(to_string(variant));
    return c;
  }
  if (!p.device.is_cuda()) {
    c.reason = "the inputs are on " + p.device.str() + "; the CUDA kernels need CUDA tensors";
    return c;
  }
  if (p.dtype != at::kHalf && p.dtype != at::kBFloat16) {
    c.reason = std::string("dtype ") + c10::toString(p.dtype) +
               ": the CUDA kernels take Half or BFloat16 inputs";
    return c;
  }
  if (p.head_dim < 1 || p.head_dim > kMaxHeadDim) {
    c.reason = "head_dim " + std::to_string(p.head_dim) + " is outside the kernels' 1.." +
               std::to_string(kMaxHeadDim);
    return c;
  }
  const int device = p.device.has_index() ? p.device.index() : at::cuda::current_device();
  const cudaDeviceProp* props = at::cuda::getDeviceProperties(device);
  const int sm = props->major * 10 + props->minor;
  const std::string where = "device " + std::to_string(device) + " is " + sm_name(sm);
  if (sm < 80) {
    c.reason = std::string(to_string(variant)) + " needs sm_80 or newer (INT8 mma.sync); " + where;
    return c;
  }
  if (variant != Variant::kSage1 && sm < 89) {
    c.reason = std::string(to_string(variant)) +
               " needs sm_89 or newer (FP8 E4M3 mma.sync for PV; the FP16-PV form for sm_80 "
               "is not implemented); " + where;
    return c;
  }
  c.padded_dim = padded_head_dim(p.head_dim);
  if (c.padded_dim == 0) {
    // 128 < D <= 256: no 256-wide instantiation (its accumulators would not fit the registers).
    // dispatch.cpp sends engine auto to torch SDPA on the GPU; engine kernel gets this reason.
    c.reason = "head_dim " + std::to_string(p.head_dim) +
               " has no CUDA kernel (the kernels are 64 and 128 channels wide; smaller head dims "
               "are zero-padded to them)";
    return c;
  }
  c10::cuda::CUDAGuard guard(device);
  const FamilyRequest request = family_request();
  // wgmma exists on sm_90a only (sm_100 has none); sage2-4b has no s4 wgmma, and sage1 keeps
  // its FP16-PV mma.sync kernel.
  std::string no_wgmma;
  if (sm != 90) {
    no_wgmma = "wgmma needs sm_90; " + where;
  } else if (variant != Variant::kSage2Int8) {
    no_wgmma = "the wgmma kernel runs sage2-8b only";
  } else if (const char* missing = cuda::attention_sage2_wgmma_missing(c.padded_dim);
             missing[0] != '\0') {
    no_wgmma = std::string("no sm_90a image of the wgmma kernel in this build (") + missing +
               "); rebuild with 90a in SAGEGEN_CUDA_ARCHS";
  }
  if (request != FamilyRequest::kMma && no_wgmma.empty()) {
    c.family = Family::kWgmma;
    c.numerics = kWgmmaNumerics;
    if (request == FamilyRequest::kWgmma2) c.numerics.tiles = kWgmmaTiles2;
    c.path = Path::kKernel;
    return c;
  }
  if (request == FamilyRequest::kWgmma || request == FamilyRequest::kWgmma2) {
    c.reason = std::string(kFamilyEnv) + "=" + std::getenv(kFamilyEnv) + ": " + no_wgmma;
    return c;
  }
  const char* missing = variant == Variant::kSage1
                            ? cuda::attention_sage1_missing(c.padded_dim)
                            : cuda::attention_sage2_missing(c.padded_dim, variant == Variant::kSage2Int4
                                                                              ? QkBits::kInt4
                                                                              : QkBits::kInt8);
  if (missing[0] != '\0') {
    c.reason = std::string(to_string(variant)) + " has no kernel image for " + sm_name(sm) +
               " in this build (" + missing + "); rebuild with its architecture in SAGEGEN_CUDA_ARCHS";
    return c;
  }
  c.path = Path::kKernel;
  return c;
}

ElemType elem_type(at::ScalarType t) {
  return t == at::kBFloat16 ? ElemType::kBf16 : ElemType::kFp16;
}

// [B, H, L, D] view of a tensor in the problem's layout.
at::Tensor hnd_view(const at::Tensor& x, Layout layout) {
  return layout == Layout::kNHD ? x.transpose(1, 2) : x;
}

// 16-byte loads need a 16-byte aligned base and strides that keep every row aligned.
bool vector_loads_ok(const at::Tensor& hnd) {
  const auto addr = reinterpret_cast<std::uintptr_t>(hnd.const_data_ptr());
  return addr % 16 == 0 && hnd.stride(0) % 8 == 0 && hnd.stride(1) % 8 == 0 &&
         hnd.stride(2) % 8 == 0;
}

cuda::ScaleGroups scale_groups(Granularity g) {
  switch (g) {
    case Granularity::kPerBlock:
      return cuda::ScaleGroups::kPerBlock;
    case Granularity::kPerWarp:
      return cuda::ScaleGroups::kPerWarp;
    case Granularity::kPerThread:
      return cuda::ScaleGroups::kPerThread;
  }
  TORCH_CHECK(false, "sageattn::cuda_backend: unknown granularity ", static_cast<int>(g));
}

template <typename Params>
void fill_source(Params& params, const at::Tensor& hnd) {
  params.x = hnd.const_data_ptr();
  params.x_type = elem_type(hnd.scalar_type());
  params.stride_b = hnd.stride(0);
  params.stride_h = hnd.stride(1);
  params.stride_l = hnd.stride(2);
  params.batch = static_cast<int>(hnd.size(0));
  params.heads = static_cast<int>(hnd.size(1));
  params.len = static_cast<int>(hnd.size(2));
  params.head_dim = static_cast<int>(hnd.size(3));
  params.vector_loads = vector_loads_ok(hnd);
}

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Token ranges per split: enough CTAs to fill the GPU, at least kMinRowsPerSplit tokens each.
constexpr int64_t kMinRowsPerSplit = 256;
constexpr int64_t kMaxSplits = 64;

// Per-channel statistics of x [B, H, L, D] (HND view) over all tokens: [1, B, H, D] float32
// (the consumers' "partials" with one split). kAbsMax with center_sums: of x minus the mean
// those sums give. The kernel reduces token ranges in parallel; the splits are then reduced once
// here, so a consumer kernel reads one value per channel instead of every split in every CTA
// (64 splits x 8 channels a thread was most of quantize_v's time).
at::Tensor column_stats(const at::Tensor& hnd, cuda::ColumnStat stat, int dp, cudaStream_t stream,
                        const at::Tensor& center_sums = at::Tensor()) {
  cuda::ColumnStatsParams params;
  fill_source(params, hnd);
  const int64_t len = hnd.size(2);
  const int64_t splits = std::clamp<int64_t>(len / kMinRowsPerSplit, 1, kMaxSplits);
  params.stat = stat;
  params.splits = static_cast<int>(splits);
  params.rows_per_split = static_cast<int>((len + splits - 1) / splits);
  if (center_sums.defined()) {
    params.center_sums = center_sums.const_data_ptr<float>();
    params.center_splits = static_cast<int>(center_sums.size(0));
  }
  at::Tensor partial = at::empty({splits, hnd.size(0), hnd.size(1), hnd.size(3)},
                                 hnd.options().dtype(at::kFloat));
  params.partial = partial.data_ptr<float>();
  cuda::launch_column_stats(params, dp, stream);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return stat == cuda::ColumnStat::kSum ? partial.sum(0, /*keepdim=*/true)
                                        : std::get<0>(partial.max(0, /*keepdim=*/true));
}

// Everything the attention kernel reads, made by the quantization kernels of one call.
struct Operands {
  int dp = 0;  // the kernel's (padded) head dim
  Family family = Family::kMma;
  TileShape tiles = kMmaTiles;
  QkBits bits = QkBits::kInt8;
  bool fp8_pv = true;
  int64_t len_q_pad = 0, len_k_pad = 0;
  at::Tensor q_int, q_scale, q_mean, k_int, k_scale, k_sums, delta_s, v_operand, v_factor, v_mean;
};

// delta_s of Q smoothing on the tensor cores: q_mean . k_hat = q_mean . k - q_mean . k_mean, and
// the second term is one constant per Q block's rows, which softmax ignores (the LSE correction
// in run() accounts for it). So delta_s is a GEMM of q_mean with the raw K in its own dtype,
// with q_mean split into hi + lo in that dtype (hi . k + lo . k carries ~16 more bits than hi
// alone, within FP32 rounding of the golden model's FP32 product as far as the scores go).
// Keys past len_k are zero. [B * Hkv, group * q_blocks, len_k_pad] float32.
at::Tensor q_smoothing_delta(const Problem& p, const at::Tensor& q_mean, const at::Tensor& kh,
                             int64_t len_k_pad, float scale_log2) {
  const int64_t group = p.heads_q / p.heads_kv;
  const int64_t q_blocks = q_mean.size(2);
  const at::Tensor hi = q_mean.to(kh.scalar_type());
  const at::Tensor lo = (q_mean - hi.to(at::kFloat)).to(kh.scalar_type());
  at::Tensor delta = at::empty({p.batch, p.heads_kv, group * q_blocks, len_k_pad},
                               q_mean.options());
  delta.narrow(3, p.len_k, len_k_pad - p.len_k).zero_();
  for (int64_t b = 0; b < p.batch; ++b) {
    // Query heads of one kv head are consecutive: [Hkv, group * q_blocks, D].
    const at::Tensor hi_b = hi[b].view({p.heads_kv, group * q_blocks, p.head_dim});
    const at::Tensor lo_b = lo[b].view({p.heads_kv, group * q_blocks, p.head_dim});
    const at::Tensor k_t = kh[b].transpose(1, 2);  // [Hkv, D, Lk], any token stride
    at::Tensor out = delta[b].narrow(2, 0, p.len_k);
    // alpha applies the scale to each FP32 product, as the golden model's separate multiply.
    at::baddbmm_out(out, out, hi_b, k_t, at::kFloat, /*beta=*/0.0, /*alpha=*/scale_log2);
    at::baddbmm_out(out, out, lo_b, k_t, at::kFloat, /*beta=*/1.0, /*alpha=*/scale_log2);
  }
  return delta.view({p.batch * p.heads_kv, group * q_blocks, len_k_pad});
}

Operands quantize_operands(const Problem& p, Variant variant, const Choice& choice,
                           const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& options, cudaStream_t stream) {
  Operands ops;
  ops.family = choice.family;
  ops.tiles = choice.numerics.tiles;
  const int dp = ops.dp = choice.padded_dim;
  const QkBits bits = ops.bits = variant == Variant::kSage2Int4 ? QkBits::kInt4 : QkBits::kInt8;
  const int qk_bytes = bits == QkBits::kInt8 ? dp : dp / 2;
  const bool fp8_pv = ops.fp8_pv = variant != Variant::kSage1;
  const at::Tensor qh = hnd_view(q, p.layout);  // [B, Hq, Lq, D]
  const at::Tensor kh = hnd_view(k, p.layout);  // [B, Hkv, Lk, D]
  const at::Tensor vh = hnd_view(v, p.layout);
  const auto f32 = q.options().dtype(at::kFloat);
  const TileShape tiles = choice.numerics.tiles;
  const int64_t q_blocks = (p.len_q + tiles.block_q - 1) / tiles.block_q;
  const int64_t k_blocks = (p.len_k + tiles.block_k - 1) / tiles.block_k;
  const int64_t len_q_pad = ops.len_q_pad = q_blocks * tiles.block_q;
  const int64_t len_k_pad = ops.len_k_pad = k_blocks * tiles.block_k;
  // sm_scale * log2(e) rounded once to FP32, as the golden model folds it.
  const float scale_log2 = static_cast<float>(p.sm_scale * kLog2EDouble);
  // ---- Q: block means, smoothing, INT quantization ----
  at::Tensor& q_int = ops.q_int = at::empty({p.batch, p.heads_q, len_q_pad, qk_bytes}, q.options().dtype(at::kChar));
  at::Tensor& q_scale = ops.q_scale = at::empty({p.batch, p.heads_q, q_blocks, tiles.block_q / tiles.warp_q,
                                  cuda::kScaleGroupsPerWarp}, f32);
  at::Tensor q_mean;
  {
    cuda::QuantRowsParams params;
    fill_source(params, qh);
    params.out = q_int.data_ptr<std::int8_t>();
    params.len_pad = static_cast<int>(len_q_pad);
    params.bits = bits;
    params.scale = q_scale.data_ptr<float>();
    params.scale_mult = scale_log2;
    params.groups = scale_groups(p.granularity);
    if (p.smooth_q) {
      q_mean = at::empty({p.batch, p.heads_q, q_blocks, p.head_dim}, f32);
      params.mean_source = cuda::MeanSource::kBlockRows;
      params.mean_out = q_mean.data_ptr<float>();
    }
    cuda::launch_quantize_q(params, dp, tiles, stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }

  // ---- K: token mean (column_stats partial sums), smoothing, INT quantization ----
  at::Tensor& k_int = ops.k_int = at::empty({p.batch, p.heads_kv, len_k_pad, qk_bytes}, q.options().dtype(at::kChar));
  at::Tensor& k_scale = ops.k_scale = at::empty({p.batch, p.heads_kv, k_blocks, cuda::kScaleGroupsPerWarp}, f32);
  at::Tensor& k_sums = ops.k_sums;
  {
    cuda::QuantRowsParams params;
    fill_source(params, kh);
    params.out = k_int.data_ptr<std::int8_t>();
    params.len_pad = static_cast<int>(len_k_pad);
    params.bits = bits;
    params.scale = k_scale.data_ptr<float>();
    params.groups = scale_groups(p.granularity);
    if (options.smooth_k) {
      k_sums = column_stats(kh, cuda::ColumnStat::kSum, dp, stream);
      params.mean_source = cuda::MeanSource::kPartialSums;
      params.mean_sums = k_sums.const_data_ptr<float>();
      params.mean_splits = static_cast<int>(k_sums.size(0));
    }
    cuda::launch_quantize_k(params, dp, tiles.block_k, stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }

  // ---- delta_s = (q_mean . k_hat) * sm_scale * log2(e), [B, Hq, q_blocks, len_k_pad] ----
  if (p.smooth_q) ops.delta_s = q_smoothing_delta(p, q_mean, kh, len_k_pad, scale_log2);
  ops.q_mean = q_mean;

  // ---- V: per-channel statistics (column_stats), then the PV operand ----
  at::Tensor v_sums;
  at::Tensor& v_operand = ops.v_operand;
  at::Tensor& v_factor = ops.v_factor;
  at::Tensor& v_mean = ops.v_mean;
  {
    cuda::QuantVParams params;
    fill_source(params, vh);
    params.len_pad = static_cast<int>(len_k_pad);
    if (options.smooth_v) {
      v_sums = column_stats(vh, cuda::ColumnStat::kSum, dp, stream);
      params.mean_sums = v_sums.const_data_ptr<float>();
      params.mean_splits = static_cast<int>(v_sums.size(0));
      v_mean = at::empty({p.batch, p.heads_kv, dp}, f32);
      params.mean_out = v_mean.data_ptr<float>();
    }
    at::Tensor absmax;
    if (fp8_pv) {
      params.pv = cuda::PvType::kFp8;
      v_operand = at::empty({p.batch, p.heads_kv, dp, len_k_pad}, q.options().dtype(at::kByte));
      absmax = column_stats(vh, cuda::ColumnStat::kAbsMax, dp, stream, v_sums);
      params.absmax_partials = absmax.const_data_ptr<float>();
      params.absmax_splits = static_cast<int>(absmax.size(0));
      v_factor = at::empty({p.batch, p.heads_kv, dp}, f32);
      params.factor_out = v_factor.data_ptr<float>();
      params.p_scale = choice.numerics.p_scale;
    } else {
      params.pv = cuda::PvType::kFp16;
      v_operand = at::empty({p.batch, p.heads_kv, len_k_pad, dp}, q.options().dtype(at::kHalf));
    }
    params.out = v_operand.data_ptr();
    cuda::launch_quantize_v(params, dp, stream);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }

  return ops;
}

}  // namespace

bool compiled() { return true; }

int device_arch(int device) {
  if (device < 0 || device >= static_cast<int>(c10::cuda::device_count())) return 0;
  const cudaDeviceProp* props = at::cuda::getDeviceProperties(device);
  return props->major * 10 + props->minor;
}

std::string why_unsupported(const Problem& problem, Variant variant) {
  return choose(problem, variant).reason;
}

KernelNumerics numerics(const Problem& problem, Variant variant) {
  return choose(problem, variant).numerics;
}

void quantize_only(const Problem& p, Variant variant, const at::Tensor& q, const at::Tensor& k,
                   const at::Tensor& v, const AttentionOptions& options) {
  const Choice choice = choose(p, variant);
  TORCH_CHECK(choice.path == Path::kKernel, "sageattn::cuda_backend::quantize_only: ",
              choice.reason);
  const c10::cuda::CUDAGuard guard(q.device());
  quantize_operands(p, variant, choice, q, k, v, options, at::cuda::getCurrentCUDAStream());
}

AttentionResult run(const Problem& p, Variant variant, const at::Tensor& q, const at::Tensor& k,
                    const at::Tensor& v, const AttentionOptions& options) {
  const Choice choice = choose(p, variant);
  TORCH_CHECK(choice.path == Path::kKernel, "sageattn::cuda_backend::run: ", choice.reason);

  const c10::cuda::CUDAGuard guard(q.device());
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const Operands ops = quantize_operands(p, variant, choice, q, k, v, options, stream);
  const auto f32 = q.options().dtype(at::kFloat);

  // ---- attention ----
  AttentionResult result;
  result.out = p.layout == Layout::kNHD
                   ? at::empty({p.batch, p.len_q, p.heads_q, p.head_dim}, q.options())
                   : at::empty({p.batch, p.heads_q, p.len_q, p.head_dim}, q.options());
  if (options.return_lse) result.lse = at::empty({p.batch, p.heads_q, p.len_q}, f32);
  const at::Tensor out_hnd = hnd_view(result.out, p.layout);
  cuda::AttentionParams params;
  params.q = ops.q_int.const_data_ptr<std::int8_t>();
  params.k = ops.k_int.const_data_ptr<std::int8_t>();
  params.v = ops.v_operand.const_data_ptr();
  params.q_scale = ops.q_scale.const_data_ptr<float>();
  params.k_scale = ops.k_scale.const_data_ptr<float>();
  params.delta_s = ops.delta_s.defined() ? ops.delta_s.const_data_ptr<float>() : nullptr;
  params.v_factor = ops.v_factor.defined() ? ops.v_factor.const_data_ptr<float>() : nullptr;
  params.v_mean = ops.v_mean.defined() ? ops.v_mean.const_data_ptr<float>() : nullptr;
  params.out = result.out.data_ptr();
  params.out_type = elem_type(q.scalar_type());
  params.out_stride_b = out_hnd.stride(0);
  params.out_stride_h = out_hnd.stride(1);
  params.out_stride_l = out_hnd.stride(2);
  params.lse = result.lse.defined() ? result.lse.data_ptr<float>() : nullptr;
  params.batch = static_cast<int>(p.batch);
  params.heads_q = static_cast<int>(p.heads_q);
  params.heads_kv = static_cast<int>(p.heads_kv);
  params.len_q = static_cast<int>(p.len_q);
  params.len_k = static_cast<int>(p.len_k);
  params.head_dim = static_cast<int>(p.head_dim);
  params.len_q_pad = static_cast<int>(ops.len_q_pad);
  params.len_k_pad = static_cast<int>(ops.len_k_pad);
  params.causal = p.causal;
  if (ops.family == Family::kWgmma) {
    cuda::WgmmaAttentionParams wgmma;
    wgmma.attn = params;
    const int dp = ops.dp;
    const auto box_rows = static_cast<std::uint32_t>(ops.tiles.block_q);
    wgmma.q_map = cuda::make_byte_tensor_map("q", params.q, p.batch * p.heads_q * ops.len_q_pad, dp,
                                             box_rows, dp);
    wgmma.k_map = cuda::make_byte_tensor_map("k", params.k, p.batch * p.heads_kv * ops.len_k_pad, dp,
                                             static_cast<std::uint32_t>(ops.tiles.block_k), dp);
    wgmma.v_map = cuda::make_byte_tensor_map("v", params.v, p.batch * p.heads_kv * dp,
                                             ops.len_k_pad, dp, ops.tiles.block_k);
    cuda::launch_attention_sage2_wgmma(wgmma, dp, ops.tiles, stream);
  } else if (ops.fp8_pv) {
    cuda::launch_attention_sage2(params, ops.dp, ops.bits, stream);
  } else {
    cuda::launch_attention_sage1(params, ops.dp, stream);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();

  if (result.lse.defined() && ops.k_sums.defined()) {
    // The kernel's LSE is that of the K-smoothed scores; add back the row shift K smoothing
    // removed, sm_scale * (q . k_mean), as the golden model does (docs/numerics.md step 7).
    // With Q smoothing, delta_s already kept the q_mean . k_mean part (q_smoothing_delta), so
    // only (q - q_mean) . k_mean is missing.
    const at::Tensor k_mean = ops.k_sums.sum(0) / static_cast<double>(p.len_k);  // [B, Hkv, D]
    const at::Tensor k_mean_q = k_mean.repeat_interleave(p.heads_q / p.heads_kv, 1);  // [B, Hq, D]
    at::Tensor q_part = hnd_view(q, p.layout).to(at::kFloat);  // [B, Hq, Lq, D]
    if (ops.delta_s.defined()) {
      const int64_t block_q = ops.len_q_pad / ops.q_mean.size(2);
      q_part = q_part - ops.q_mean.repeat_interleave(block_q, 2).narrow(2, 0, p.len_q);
    }
    const at::Tensor shift = at::matmul(q_part, k_mean_q.unsqueeze(-1)).squeeze(-1);  // [B, Hq, Lq]
    result.lse.add_(shift * static_cast<float>(p.sm_scale));
  }
  return result;
}

}  // namespace sageattn::cuda_backend

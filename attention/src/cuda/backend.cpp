// cuda_backend.h on the kernels of this folder: the device facts the selector (selector.h)
// decides on, and the launch glue from the selector's plan and at::Tensor to the torch-free
// params. Nothing here chooses a kernel.
#include "cuda_backend.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/arrival_counters.h"
#include "cuda/launch.h"
#include "cuda/tensor_map.h"
#include "env_choice.h"
#include "sageattn/tiles.h"

namespace sageattn::cuda_backend {
namespace {

using cuda::ElemType;
using cuda::QkBits;

constexpr double kLog2EDouble = 1.4426950408889634;
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

// How a quantization kernel reads one input (pointer, dtype, strides, 16-byte loads): the part
// shared by the row and V kernels' params and channel_stats' sources.
template <typename Source>
void fill_view(Source& src, const at::Tensor& hnd) {
  src.x = hnd.const_data_ptr();
  src.x_type = elem_type(hnd.scalar_type());
  src.stride_b = hnd.stride(0);
  src.stride_h = hnd.stride(1);
  src.stride_l = hnd.stride(2);
  src.vector_loads = vector_loads_ok(hnd);
}

// The view plus the sizes, for the kernels that take one input.
template <typename Params>
void fill_source(Params& params, const at::Tensor& hnd) {
  fill_view(params, hnd);
  params.batch = static_cast<int>(hnd.size(0));
  params.heads = static_cast<int>(hnd.size(1));
  params.len = static_cast<int>(hnd.size(2));
  params.head_dim = static_cast<int>(hnd.size(3));
}

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// An attention output (layout `layout`) as the wgmma kernel's output map sees it.
cuda::OutputTensorView output_view(const at::Tensor& out, Layout layout) {
  const at::Tensor hnd = hnd_view(out, layout);
  cuda::OutputTensorView view;
  view.base = const_cast<void*>(hnd.const_data_ptr());
  view.bf16 = hnd.scalar_type() == at::kBFloat16;
  view.batch = hnd.size(0);
  view.heads = hnd.size(1);
  view.len = hnd.size(2);
  view.head_dim = hnd.size(3);
  view.stride_b = hnd.stride(0);
  view.stride_h = hnd.stride(1);
  view.stride_l = hnd.stride(2);
  return view;
}

std::atomic<OutputStore>& output_store_setting() {
  static std::atomic<OutputStore> setting{
      env_choice<OutputStore>("SAGEATTN_WGMMA_OUTPUT_STORE",
                              {{"auto", OutputStore::kAuto}, {"threads", OutputStore::kThreads}})};
  return setting;
}

struct WgmmaGridSetting {
  std::atomic<WgmmaGrid> grid{env_choice<WgmmaGrid>(
      "SAGEATTN_WGMMA_GRID", {{"persistent", WgmmaGrid::kPersistent}, {"full", WgmmaGrid::kFull}})};
  std::atomic<int> max_ctas{0};
};
WgmmaGridSetting& wgmma_grid_setting() {
  static WgmmaGridSetting setting;
  return setting;
}

std::atomic<bool>& programmatic_launch_setting() {
  static std::atomic<bool> setting{
      env_choice<bool>("SAGEATTN_PROGRAMMATIC_LAUNCH", {{"on", true}, {"off", false}})};
  return setting;
}

// What Q's and K's row quantization share: the input, the INT output and its scales.
cuda::QuantRowsParams row_quant_params(const at::Tensor& hnd, at::Tensor& out, int64_t len_pad,
                                       cuda::QkBits bits, at::Tensor& scale, Granularity granularity) {
  cuda::QuantRowsParams params;
  fill_source(params, hnd);
  params.out = out.data_ptr<std::int8_t>();
  params.len_pad = static_cast<int>(len_pad);
  params.bits = bits;
  params.scale = scale.data_ptr<float>();
  params.groups = scale_groups(granularity);
  return params;
}

// Token ranges per split of channel_stats: enough CTAs to fill the GPU, at least
// kMinRowsPerSplit tokens each; the last CTA of a (batch, head) reduces the splits serially.
constexpr int64_t kMinRowsPerSplit = 512;
constexpr int64_t kMaxSplits = 32;

// Everything the attention kernel reads, made by the quantization kernels of one call.
struct Operands {
  int dp = 0;  // the kernel's (padded) head dim
  KernelFamily family = KernelFamily::kMma;
  // Launch 2 and the attention kernel go out programmatically (programmatic_launch()): only for
  // the wgmma kernel, whose sm_90a build has the waits the overlap needs (grid_dependency.cuh).
  bool programmatic = false;
  TileShape tiles = kMmaTiles;
  QkBits bits = QkBits::kInt8;
  bool fp8_pv = true;
  int64_t len_q_pad = 0, len_k_pad = 0;
  at::Tensor q_int, q_scale, q_mean, k_int, k_scale, k_mean, delta_s, v_operand, v_factor, v_mean;
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

Operands quantize_operands(const Problem& p, Variant variant, const KernelPlan& choice,
                           const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& options, const c10::cuda::CUDAStream& stream) {
  Operands ops;
  ops.family = choice.family;
  ops.programmatic = ops.family == KernelFamily::kWgmma && programmatic_launch();
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
  // Two launches (docs/kernels.md, "One call, step by step"): Q beside the K and V statistics,
  // then K beside V, which need the finished statistics.

  // ---- Q: block means, smoothing, INT quantization ----
  at::Tensor& q_int = ops.q_int = at::empty({p.batch, p.heads_q, len_q_pad, qk_bytes}, q.options().dtype(at::kChar));
  at::Tensor& q_scale = ops.q_scale = at::empty({p.batch, p.heads_q, q_blocks, tiles.block_q / tiles.warp_q,
                                  cuda::kScaleGroupsPerWarp}, f32);
  at::Tensor q_mean;
  cuda::QuantRowsParams q_params = row_quant_params(qh, q_int, len_q_pad, bits, q_scale, p.granularity);
  q_params.scale_mult = scale_log2;
  // The wgmma kernel's causal grids put the padding rows first (tiles.h causal_q_lead_rows).
  q_params.lead_rows = choice.numerics.q_lead_rows;
  TORCH_CHECK(q_params.lead_rows == 0 || choice.family != KernelFamily::kMma,
              "sageattn::cuda_backend: the mma kernels have no padding rows before Q (planned ",
              q_params.lead_rows, ")");
  if (p.smooth_q) {
    q_mean = at::empty({p.batch, p.heads_q, q_blocks, p.head_dim}, f32);
    q_params.mean_source = cuda::MeanSource::kBlockRows;
    q_params.mean_out = q_mean.data_ptr<float>();
  }

  // ---- per-channel statistics over all tokens, K and V: K's mean (K smoothing), V's mean
  // (V smoothing), FP8 multiplier and output factor ----
  const auto channel_values = [&] { return at::empty({p.batch, p.heads_kv, dp}, f32); };
  at::Tensor v_inv, partial_sum, partial_extrema, arrivals;
  cuda::ChannelStatsParams stats;
  if (options.smooth_k) {
    cuda::ChannelStatsSource& src = stats.src[stats.sources++];
    fill_view(src, kh);
    ops.k_mean = channel_values();
    src.mean = ops.k_mean.data_ptr<float>();
  }
  if (fp8_pv || options.smooth_v) {
    cuda::ChannelStatsSource& src = stats.src[stats.sources++];
    fill_view(src, vh);
    if (options.smooth_v) {
      ops.v_mean = channel_values();
      src.mean = ops.v_mean.data_ptr<float>();
      src.centre = true;
    }
    if (fp8_pv) {
      v_inv = channel_values();
      ops.v_factor = channel_values();
      src.inv = v_inv.data_ptr<float>();
      src.factor = ops.v_factor.data_ptr<float>();
    }
  }
  if (stats.sources > 0) {
    stats.batch = static_cast<int>(p.batch);
    stats.heads = static_cast<int>(p.heads_kv);
    stats.len = static_cast<int>(p.len_k);
    stats.head_dim = static_cast<int>(p.head_dim);
    stats.splits = static_cast<int>(std::clamp<int64_t>(p.len_k / kMinRowsPerSplit, 1, kMaxSplits));
    stats.rows_per_split = static_cast<int>((p.len_k + stats.splits - 1) / stats.splits);
    stats.p_scale = choice.numerics.p_scale;
    // The sums in FP64 (channel_stats.cuh says why), max and min in FP32.
    partial_sum = at::empty({stats.sources, p.batch, p.heads_kv, stats.splits, dp},
                            q.options().dtype(at::kDouble));
    partial_extrema = at::empty({stats.sources, p.batch, p.heads_kv, stats.splits, 2, dp}, f32);
    // No fill launch: the stream's counters are zero and every pass leaves them so.
    arrivals = cuda::arrival_counters(stream, stats.sources * p.batch * p.heads_kv);
    stats.partial_sum = partial_sum.data_ptr<double>();
    stats.partial_extrema = partial_extrema.data_ptr<float>();
    stats.arrivals = reinterpret_cast<unsigned*>(arrivals.data_ptr<int>());
  }
  cuda::launch_quantize_q_and_stats(q_params, tiles, stats, dp, stream);
  C10_CUDA_KERNEL_LAUNCH_CHECK();

  // ---- K: smoothing, INT quantization ----
  at::Tensor& k_int = ops.k_int = at::empty({p.batch, p.heads_kv, len_k_pad, qk_bytes}, q.options().dtype(at::kChar));
  at::Tensor& k_scale = ops.k_scale = at::empty({p.batch, p.heads_kv, k_blocks, cuda::kScaleGroupsPerWarp}, f32);
  cuda::QuantRowsParams k_params = row_quant_params(kh, k_int, len_k_pad, bits, k_scale, p.granularity);
  if (options.smooth_k) {
    k_params.mean_source = cuda::MeanSource::kChannelMean;
    k_params.channel_mean = ops.k_mean.const_data_ptr<float>();
  }

  // ---- V: the PV operand ----
  cuda::QuantVParams v_params;
  fill_source(v_params, vh);
  v_params.len_pad = static_cast<int>(len_k_pad);
  v_params.mean = ops.v_mean.defined() ? ops.v_mean.const_data_ptr<float>() : nullptr;
  if (fp8_pv) {
    v_params.pv = cuda::PvType::kFp8;
    ops.v_operand = at::empty({p.batch, p.heads_kv, dp, len_k_pad}, q.options().dtype(at::kByte));
    v_params.inv = v_inv.const_data_ptr<float>();
  } else {
    v_params.pv = cuda::PvType::kFp16;
    ops.v_operand = at::empty({p.batch, p.heads_kv, len_k_pad, dp}, q.options().dtype(at::kHalf));
  }
  v_params.out = ops.v_operand.data_ptr();
  cuda::launch_quantize_k_and_v(k_params, tiles.block_k, v_params, dp, ops.programmatic, stream);
  C10_CUDA_KERNEL_LAUNCH_CHECK();

  // ---- delta_s = (q_mean . k_hat) * sm_scale * log2(e), [B, Hq, q_blocks, len_k_pad] ----
  if (p.smooth_q) ops.delta_s = q_smoothing_delta(p, q_mean, kh, len_k_pad, scale_log2);
  ops.q_mean = q_mean;

  return ops;
}

// The CUDA runtime's facts about one device, asked with the device current (the image checks
// are per device).
DeviceFacts query_device_facts(int device) {
  DeviceFacts facts;
  facts.index = device;
  if (device < 0 || device >= static_cast<int>(c10::cuda::device_count())) return facts;
  const cudaDeviceProp* props = at::cuda::getDeviceProperties(device);
  facts.arch = props->major * 10 + props->minor;
  facts.sm_count = props->multiProcessorCount;
  const c10::cuda::CUDAGuard guard(device);
  for (const int dp : {64, 128}) {
    const auto note = [&](KernelFamily family, Variant variant, const char* missing) {
      if (missing[0] != '\0') facts.missing_images[{family, variant, dp}] = missing;
    };
    note(KernelFamily::kMma, Variant::kSage1, cuda::attention_sage1_missing(dp));
    note(KernelFamily::kMma, Variant::kSage2Int8, cuda::attention_sage2_missing(dp, QkBits::kInt8));
    note(KernelFamily::kMma, Variant::kSage2Int4, cuda::attention_sage2_missing(dp, QkBits::kInt4));
    note(KernelFamily::kWgmma, Variant::kSage2Int8, cuda::attention_sage2_wgmma_missing(dp));
  }
  return facts;
}

}  // namespace

bool compiled() { return true; }

OutputStore output_store() { return output_store_setting().load(); }

void set_output_store(OutputStore store) { output_store_setting().store(store); }

bool programmatic_launch() { return programmatic_launch_setting().load(); }

void set_programmatic_launch(bool on) { programmatic_launch_setting().store(on); }

WgmmaGrid wgmma_grid() { return wgmma_grid_setting().grid.load(); }

int wgmma_grid_max_ctas() { return wgmma_grid_setting().max_ctas.load(); }

void set_wgmma_grid(WgmmaGrid grid, int max_ctas) {
  TORCH_CHECK(max_ctas >= 0, "sageattn::cuda_backend::set_wgmma_grid: max_ctas ", max_ctas,
              " is negative");
  wgmma_grid_setting().grid.store(grid);
  wgmma_grid_setting().max_ctas.store(max_ctas);
}

std::string output_tma_unfit(const at::Tensor& out, Layout layout) {
  TORCH_CHECK(out.dim() == 4 && out.stride(3) == 1 &&
                  (out.scalar_type() == at::kBFloat16 || out.scalar_type() == at::kHalf),
              "sageattn::cuda_backend::output_tma_unfit: not an attention output (",
              out.sizes(), ", ", out.scalar_type(), ")");
  return cuda::output_tensor_map_unfit(output_view(out, layout));
}

const DeviceFacts& device_facts(int device) {
  // Devices are never added to a process; a fixed table keeps the references stable.
  constexpr int kMaxDevices = 64;
  static std::once_flag once[kMaxDevices];
  static DeviceFacts facts[kMaxDevices];
  static const DeviceFacts kNoDevice = [] {
    DeviceFacts f;
    f.index = -1;
    return f;
  }();
  if (device < 0 || device >= kMaxDevices) return kNoDevice;
  std::call_once(once[device], [device] { facts[device] = query_device_facts(device); });
  return facts[device];
}

int current_device() { return c10::cuda::current_device(); }

void quantize_only(const Problem& p, Variant variant, const KernelPlan& plan, const at::Tensor& q,
                   const at::Tensor& k, const at::Tensor& v, const AttentionOptions& options) {
  const c10::cuda::CUDAGuard guard(q.device());
  quantize_operands(p, variant, plan, q, k, v, options, c10::cuda::getCurrentCUDAStream());
}

ChannelMeans channel_means(const Problem& p, Variant variant, const KernelPlan& plan,
                           const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const AttentionOptions& options) {
  const c10::cuda::CUDAGuard guard(q.device());
  const Operands ops =
      quantize_operands(p, variant, plan, q, k, v, options, c10::cuda::getCurrentCUDAStream());
  // [B, Hkv, Dp] -> the head_dim real channels.
  const auto real = [&](const at::Tensor& m) {
    return m.defined() ? m.narrow(2, 0, p.head_dim) : at::Tensor();
  };
  return {real(ops.k_mean), real(ops.v_mean)};
}

AttentionResult run(const Problem& p, Variant variant, const KernelPlan& plan, const at::Tensor& q,
                    const at::Tensor& k, const at::Tensor& v, const AttentionOptions& options) {
  TORCH_CHECK(plan.padded_dim == 64 || plan.padded_dim == 128,
              "sageattn::cuda_backend::run: no kernel plan (padded head dim ", plan.padded_dim, ")");

  const c10::cuda::CUDAGuard guard(q.device());
  const c10::cuda::CUDAStream stream = c10::cuda::getCurrentCUDAStream();
  const Operands ops = quantize_operands(p, variant, plan, q, k, v, options, stream);
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
  params.q_lead_rows = plan.numerics.q_lead_rows;
  if (ops.family == KernelFamily::kWgmma) {
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
    // O through shared memory and TMA where a tensor map describes the output (always for the
    // outputs allocated above unless head_dim * 2 bytes is not a multiple of 16).
    const cuda::OutputTensorView out_view = output_view(result.out, p.layout);
    wgmma.tma_store = output_store() == OutputStore::kAuto &&
                      cuda::output_tensor_map_unfit(out_view).empty();
    if (wgmma.tma_store) wgmma.out_map = cuda::make_output_tensor_map(out_view);
    // The key split of the last wave's tiles (tiles.h KeySplit), as the selector planned it.
    const KeySplit& split = plan.numerics.key_split;
    const int64_t tiles = ops.len_q_pad / ops.tiles.block_q * p.heads_q * p.batch;
    wgmma.split_first_tile = static_cast<int>(tiles);
    int64_t split_tiles = 0;
    at::Tensor split_partials;  // alive until the launch is queued
    if (split.splits > 1) {
      TORCH_CHECK(
          !p.causal && split.splits <= kMaxKeySplits && split.first_tile >= 0 &&
              split.first_tile < tiles && split.k_blocks * ops.tiles.block_k == ops.len_k_pad,
          "sageattn::cuda_backend::run: key split (first tile ", split.first_tile, ", ",
          split.splits, " splits, ", split.k_blocks, " key blocks) does not fit the problem (hd",
          dp, ", ", tiles, " tiles, ", ops.len_k_pad / ops.tiles.block_k, " key blocks",
          p.causal ? ", causal" : "", ")");
      wgmma.split_first_tile = static_cast<int>(split.first_tile);
      wgmma.splits = split.splits;
      for (int s = 0; s <= split.splits; ++s) wgmma.split_begin[s] = key_split_begin(split, s);
      split_tiles = tiles - split.first_tile;
      const int64_t partial_floats =
          split_tiles * split.splits * cuda::wgmma_key_split_partial_floats(dp, ops.tiles);
      split_partials = at::empty({partial_floats}, f32);
      wgmma.split_partials = split_partials.data_ptr<float>();
    }
    // Every item its own CTA, or a persistent grid of one CTA per SM claiming them
    // (WgmmaAttentionParams; WgmmaGrid).
    const int64_t items = wgmma.split_first_tile + split_tiles * wgmma.splits;
    wgmma.items = static_cast<int>(items);
    wgmma.ctas = wgmma.items;
    if (wgmma_grid() == WgmmaGrid::kPersistent) {
      const int cap = wgmma_grid_max_ctas() > 0 ? wgmma_grid_max_ctas()
                                                : device_facts(q.device().index()).sm_count;
      if (cap > 0) wgmma.ctas = static_cast<int>(std::min<int64_t>(items, cap));
    }
    // The split tiles' arrival counters, then the items' claim counter. No fill launch: the
    // stream's counters are zero and every launch leaves them so.
    const bool claims = wgmma.ctas < wgmma.items;
    at::Tensor counters;  // alive until the launch is queued
    if (split_tiles > 0 || claims) {
      counters = cuda::arrival_counters(stream, split_tiles + (claims ? 1 : 0));
      auto* first = reinterpret_cast<unsigned*>(counters.data_ptr<int>());
      if (split_tiles > 0) wgmma.split_counters = first;
      if (claims) wgmma.item_counter = first + split_tiles;
    }
    cuda::launch_attention_sage2_wgmma(wgmma, dp, ops.tiles, ops.programmatic, stream);
  } else if (ops.fp8_pv) {
    cuda::launch_attention_sage2(params, ops.dp, ops.bits, stream);
  } else {
    cuda::launch_attention_sage1(params, ops.dp, stream);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();

  if (result.lse.defined() && ops.k_mean.defined()) {
    // The kernel's LSE is that of the K-smoothed scores; add back the row shift K smoothing
    // removed, sm_scale * (q . k_mean), as the golden model does (docs/numerics.md step 7).
    // With Q smoothing, delta_s already kept the q_mean . k_mean part (q_smoothing_delta), so
    // only (q - q_mean) . k_mean is missing.
    const at::Tensor k_mean = ops.k_mean.narrow(2, 0, p.head_dim);  // [B, Hkv, D]
    const at::Tensor k_mean_q = k_mean.repeat_interleave(p.heads_q / p.heads_kv, 1);  // [B, Hq, D]
    at::Tensor q_part = hnd_view(q, p.layout).to(at::kFloat);  // [B, Hq, Lq, D]
    if (ops.delta_s.defined()) {
      const int64_t block_q = ops.len_q_pad / ops.q_mean.size(2);
      q_part = q_part - ops.q_mean.repeat_interleave(block_q, 2)
                            .narrow(2, plan.numerics.q_lead_rows, p.len_q);
    }
    const at::Tensor shift = at::matmul(q_part, k_mean_q.unsqueeze(-1)).squeeze(-1);  // [B, Hq, Lq]
    result.lse.add_(shift * static_cast<float>(p.sm_scale));
  }
  return result;
}

}  // namespace sageattn::cuda_backend

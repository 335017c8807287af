// Enums and option structs shared by the attention API, the adaptive table, the kernels'
// dispatch and the golden model. Every boundary of the library takes these, never raw ints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sageattn {

// Numerics of one attention call (design.md section 2). Names in YAML, CLI and logs are the
// strings of to_string(): "sage2-8b", "sage2-4b", "sage1", "fp16", "auto".
enum class Variant : std::uint8_t {
  kSage2Int8,  // INT8 QK, FP8 E4M3 PV, two-level FP32 accumulation
  kSage2Int4,  // INT4 QK, FP8 E4M3 PV, two-level FP32 accumulation
  kSage1,      // INT8 QK, FP16 PV, FP32 accumulation
  kFp16,       // full precision (torch SDPA on CUDA, FP32 math on CPU)
  kAuto,       // the fastest variant this device runs well; falls back to kFp16
};

// Who computes it. kAuto: the CUDA kernel for CUDA tensors, the golden model for CPU tensors.
// kGolden forces the CPU golden model (the contract the kernels are held to), whatever the
// device of the inputs; the result comes back on the inputs' device.
enum class Engine : std::uint8_t { kAuto, kKernel, kGolden };

// Which CUDA kernel family runs a quantized variant (docs/kernels.md). kAuto: the selector's
// choice (wgmma on sm_90 where it runs sage2-8b, mma.sync elsewhere). kMma forces mma.sync;
// kWgmma / kWgmma2 ask for the sm_90a wgmma kernel with three / two consumer warpgroups and
// refuse what it cannot run (A/B runs: the bench's VARIANT@family, SAGEATTN_KERNEL_FAMILY).
// Names: "auto", "mma", "wgmma", "wgmma2".
enum class KernelFamily : std::uint8_t { kAuto, kMma, kWgmma, kWgmma2 };

// What computes one call, as the selector decided (selection.h).
enum class Route : std::uint8_t {
  kNone,        // nothing runs the request; the selection's reason says which constraint failed
  kGolden,      // the CPU golden model of the resolved variant
  kSdpa,        // at::scaled_dot_product_attention (variant fp16), on the inputs' device
  kCudaKernel,  // a CUDA kernel of the resolved variant (the selection's plan)
};

// HND = [batch, heads, tokens, head_dim]; NHD = [batch, tokens, heads, head_dim].
enum class Layout : std::uint8_t { kHND, kNHD };

// Which rows share one quantization scale (tiles.h gives the shapes).
enum class Granularity : std::uint8_t {
  kPerBlock,   // one scale per Q block / K block
  kPerWarp,    // Q: the rows of one warp; K: per block
  kPerThread,  // the rows one thread's MMA fragment touches (Q and K)
};

struct AttentionOptions {
  Variant variant = Variant::kSage2Int8;
  Engine engine = Engine::kAuto;
  Layout layout = Layout::kHND;
  bool causal = false;             // top-left aligned, as torch SDPA: query i sees keys 0..i
  std::optional<double> sm_scale;  // default 1/sqrt(head_dim)
  // Default: per-thread for sage2-8b and sage2-4b, per-warp for sage1 (default_granularity).
  std::optional<Granularity> granularity;
  // SageAttention2 Q smoothing with the delta_s correction. Default (default_smooth_q): on for
  // sage2-4b only, where it buys accuracy; at 8 bits it measured no gain (docs/numerics.md).
  std::optional<bool> smooth_q;
  bool smooth_k = true;   // subtract the token mean of K (softmax is invariant to it)
  bool smooth_v = false;  // subtract the token mean of V before FP8, add it back to O
  bool return_lse = false;
  // The CUDA kernel family to run; kAuto also honours SAGEATTN_KERNEL_FAMILY (read once per
  // process), so a whole run can be pinned to one family without code changes.
  KernelFamily kernel_family = KernelFamily::kAuto;
};

std::string_view to_string(Variant v);
std::string_view to_string(Engine e);
std::string_view to_string(Layout l);
std::string_view to_string(Granularity g);
std::string_view to_string(KernelFamily f);
std::string_view to_string(Route r);

// Parse the names above; nullopt for an unknown name (callers own the error message, since
// they know whether it came from a flag, a YAML key or an API string).
std::optional<Variant> parse_variant(std::string_view name);
std::optional<Engine> parse_engine(std::string_view name);
std::optional<Layout> parse_layout(std::string_view name);
std::optional<Granularity> parse_granularity(std::string_view name);
std::optional<KernelFamily> parse_kernel_family(std::string_view name);

// All variant names, for help texts and error messages ("one of: ...").
const std::vector<std::string>& variant_names();

// The granularity a variant uses when the options leave it unset.
Granularity default_granularity(Variant v);

// Whether a variant smooths Q when the options leave smooth_q unset.
bool default_smooth_q(Variant v);

}  // namespace sageattn

// Model configs (configs/models/*.yaml): the shape of a DiT and its text encoder, where the
// weights are, and the default adaptive table. docs/pipeline.md holds the schema.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sageattn/table.h"

namespace sagegen {

// Where the DiT denoises: pixels (the built-in model, no VAE) or a VAE latent (benchmark shapes;
// no decoder exists, so those configs run only through Pipeline::time_denoise_step).
enum class ModelSpace : std::uint8_t { kPixel, kLatent };

// How text reaches the image tokens.
enum class TextConditioning : std::uint8_t {
  kCrossAttention,  // Wan2.1: self-attention over video tokens, then cross-attention to text
  kJointAttention,  // FLUX/MMDiT-like: one self-attention over [text tokens; video tokens]
};

enum class ComputeDType : std::uint8_t { kFloat32, kBFloat16, kFloat16 };

// What the DiT's output means. kVelocity: the flow-matching velocity noise - x0 (Wan, FLUX).
// kSample: the clean sample x0, turned into a velocity by models/prediction.h; a model whose
// patches have more values than its width cannot pass the input noise through to a velocity,
// but it can predict the clean image (the "x-prediction" of pixel-space DiTs).
enum class Prediction : std::uint8_t { kVelocity, kSample };

struct Extent3 {
  int t = 1;  // frames
  int h = 1;  // rows
  int w = 1;  // columns
};

struct DitConfig {
  int depth = 0;
  int width = 0;     // heads * head_dim
  int heads = 0;
  int head_dim = 0;  // split among the (frame, row, column) RoPE axes
  int ffn_dim = 0;
  Extent3 patch;     // in latent (or pixel) cells
  int in_channels = 0;
  int out_channels = 0;
  int text_dim = 0;     // width of the text encoder's output
  int text_length = 0;  // text tokens after zero padding (Wan: 512)
  int freq_dim = 256;   // sinusoidal timestep features
  double eps = 1e-6;
  double rope_theta = 10000.0;
  // Latent cells per RoPE axis the model was built for (diffusers' rope_max_seq_len: Wan
  // precomputes that many positions); 0: no limit.
  int rope_max_positions = 0;
  TextConditioning conditioning = TextConditioning::kCrossAttention;
};

// A small transformer over word tokens. layers == 0: token + position embeddings only (used by
// the benchmark shapes, whose real encoders (UMT5, T5) are not part of sagegen).
struct TextEncoderConfig {
  int layers = 0;
  int width = 0;
  int heads = 1;
  int ffn_dim = 0;
  std::string vocab_path;  // resolved; the word-level tokenizer's vocabulary
};

struct ModelConfig {
  std::string name;
  std::string source_path;  // the YAML file (for messages)
  ModelSpace space = ModelSpace::kPixel;
  Extent3 latent_scale;  // pixels (frames) per latent cell; 1,1,1 in pixel space
  DitConfig dit;
  TextEncoderConfig text_encoder;
  std::string weights;   // resolved path; empty when random_weights
  bool random_weights = false;
  std::uint64_t random_seed = 0;
  std::string table;     // resolved path of the default adaptive table; empty: none
  // The model's own precision rules: under every table (a file, --attention's one variant, or
  // none) they decide the (layer, step) pairs the table's rules leave to its default
  // (PrecisionTable::with_rules_before_default). A Wan folder keeps its cross-attention in fp16
  // this way (wan_folder_model_config); the built-in models have none.
  std::vector<sageattn::TableRule> precision_rules;
  ComputeDType cuda_dtype = ComputeDType::kBFloat16;  // the CPU always computes in float32
  Prediction prediction = Prediction::kVelocity;
  // The caption language the model was trained on: "shapes-world" (the built-in model) lets
  // generate() name the words of a prompt no caption uses; empty: unknown, not checked.
  std::string captions;
  int default_width = 64;
  int default_height = 64;

  // Attention layer ids of the DiT: self-attention of block b is 2b, cross-attention 2b+1
  // (joint-attention models never use the odd ids). The adaptive table covers these.
  int dit_attention_layers() const { return 2 * dit.depth; }
};

// Reads and validates a model YAML. Relative paths inside it (weights, vocab, table) are
// resolved against the YAML file's directory. Throws ConfigError naming the file and the key
// (and line) for an unknown key, a missing key or a bad value.
ModelConfig load_model_config(const std::string& path);

// The same from text; relative paths resolve against base_dir.
ModelConfig parse_model_config(const std::string& yaml, const std::string& source_name,
                               const std::string& base_dir);

std::string to_string(ComputeDType dtype);

}  // namespace sagegen

#include "sagegen/diffusers/random_folder.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seeded_generator.h"
#include "sagegen/diffusers/folder.h"
#include "sagegen/diffusers/umt5_text_encoder.h"
#include "sagegen/diffusers/wan_transformer.h"
#include "sagegen/diffusers/wan_vae.h"
#include "sagegen/errors.h"
#include "sagegen/models/umt5_encoder.h"
#include "sagegen/models/wan_dit.h"
#include "sagegen/models/wan_vae.h"
#include "sagegen/models/weights.h"

namespace sagegen::diffusers {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Weight files of a component folder: left out of the copy (a real folder as skeleton gives a
// random folder of the same configs).
bool is_weight_file(const std::string& name) {
  for (const char* suffix : {".safetensors", ".safetensors.index.json", ".bin", ".bin.index.json",
                             ".pt", ".pth", ".ckpt"}) {
    if (ends_with(name, suffix)) return true;
  }
  return false;
}

void copy_one_file(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error) {
    throw ConfigError(fmt::format("{}: cannot copy to {}: {}", from.string(), to.string(),
                                  error.message()));
  }
}

// The plain files of `from` (not its sub-folders), weights left out, into `to`.
void copy_config_files(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const fs::directory_entry& entry : fs::directory_iterator(from)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !is_weight_file(name)) copy_one_file(entry.path(), to / name);
  }
}

void prepare_output(const fs::path& out) {
  std::error_code error;
  if (fs::exists(out, error)) {
    if (!fs::is_directory(out, error) || !fs::is_empty(out, error)) {
      throw ConfigError(fmt::format("{}: exists and is not an empty folder (the random folder is "
                                    "written into a new one)", out.string()));
    }
  }
  fs::create_directories(out, error);
  if (error) {
    throw ConfigError(fmt::format("{}: cannot create: {}", out.string(), error.message()));
  }
}

// Linear and convolution weights N(0, 1/fan_in) keep each layer's output at its input's scale;
// norm weights (1-D, and the Wan VAE's RMS-norm `gamma` of shape [C, 1, 1(, 1)]) at 1 and biases
// at 0 leave normalised activations as they are; Wan's modulation tables N(0, 1/dim) as Wan
// initialises them. Drawn on the tensors' device, in their dtype.
void fill_random(io::NamedTensors& parameters, at::Generator& generator) {
  at::NoGradGuard no_grad;
  for (auto& [name, parameter] : parameters) {
    if (ends_with(name, ".bias")) {
      parameter.zero_();
    } else if (parameter.dim() == 1 || ends_with(name, ".gamma")) {
      parameter.fill_(1.0);
    } else if (ends_with(name, "scale_shift_table")) {
      parameter.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(parameter.size(-1))), generator);
    } else {
      const double fan_in = static_cast<double>(parameter.numel() / parameter.size(0));
      parameter.normal_(0.0, 1.0 / std::sqrt(fan_in), generator);
    }
  }
}

std::uint64_t total_bytes(const io::NamedTensors& tensors) {
  std::uint64_t bytes = 0;
  for (const auto& entry : tensors) bytes += entry.second.nbytes();
  return bytes;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One component: the loader's module for `config` on the drawing device, its parameters filled
// and written, then released before the next component is made.
template <typename Module, typename Config>
void write_component(const std::string& component, const fs::path& dir,
                     const std::string& base_name, const Config& config, at::ScalarType dtype,
                     const RandomFolderOptions& options, at::Generator& generator) {
  const auto start = std::chrono::steady_clock::now();
  io::NamedTensors parameters;
  std::int64_t count = 0;
  {
    const auto module =
        std::make_shared<Module>(config, at::TensorOptions().device(options.device).dtype(dtype));
    models::collect_parameters(*module, "", parameters);
  }
  for (const auto& entry : parameters) count += entry.second.numel();
  fill_random(parameters, generator);
  const int files = save_sharded_safetensors(dir, base_name, parameters, options.max_shard_bytes);
  spdlog::info("random folder: {} {:.1f}M parameters, {:.2f} GB in {} file{} ({}), {:.1f} s",
               component, count / 1e6, total_bytes(parameters) / 1e9, files, files == 1 ? "" : "s",
               c10::toString(dtype), seconds_since(start));
}

}  // namespace

int save_sharded_safetensors(const fs::path& dir, const std::string& base_name,
                             const io::NamedTensors& tensors, std::uint64_t max_shard_bytes) {
  const io::Metadata metadata = {{"format", "pt"}};  // what transformers and diffusers write
  if (total_bytes(tensors) <= max_shard_bytes) {
    io::save_safetensors(dir / (base_name + ".safetensors"), tensors, metadata);
    return 1;
  }
  // huggingface_hub's split: tensors in order, a new shard when the next would overflow this one
  // (a tensor larger than the limit gets a shard of its own).
  std::vector<io::NamedTensors> shards(1);
  std::uint64_t shard_bytes = 0;
  for (const auto& [name, tensor] : tensors) {
    if (shard_bytes > 0 && shard_bytes + tensor.nbytes() > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace(name, tensor);
    shard_bytes += tensor.nbytes();
  }
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string file =
        fmt::format("{}-{:05d}-of-{:05d}.safetensors", base_name, i + 1, shards.size());
    io::save_safetensors(dir / file, shards[i], metadata);
    for (const auto& entry : shards[i]) weight_map[entry.first] = file;
  }
  // The index last: a folder whose writing stopped half-way has none, and the loader says so.
  const nlohmann::ordered_json index = {{"metadata", {{"total_size", total_bytes(tensors)}}},
                                        {"weight_map", weight_map}};
  const fs::path index_path = dir / (base_name + ".safetensors.index.json");
  std::ofstream stream(index_path);
  stream << index.dump(2) << '\n';
  stream.close();
  if (!stream) throw ConfigError(fmt::format("{}: write failed (disk full?)", index_path.string()));
  return static_cast<int>(shards.size());
}

void write_random_wan_folder(const fs::path& skeleton, const fs::path& out,
                             const RandomFolderOptions& options) {
  std::error_code error;
  if (!fs::is_regular_file(skeleton / "model_index.json", error)) {
    throw ConfigError(fmt::format("{}: not a diffusers folder skeleton (no model_index.json)",
                                  skeleton.string()));
  }
  // The tokenizer's source is settled before anything is written.
  const bool tokenizer_from_options = !fs::is_regular_file(skeleton / "tokenizer" / "spiece.model", error);
  if (tokenizer_from_options) {
    if (options.tokenizer_dir.empty()) {
      throw ConfigError(fmt::format(
          "{}: no tokenizer/spiece.model; name a tokenizer folder to copy (--tokenizer)",
          skeleton.string()));
    }
    if (!fs::is_regular_file(options.tokenizer_dir / "spiece.model", error)) {
      throw ConfigError(fmt::format("{}: no spiece.model in this tokenizer folder",
                                    options.tokenizer_dir.string()));
    }
  }
  prepare_output(out);
  copy_one_file(skeleton / "model_index.json", out / "model_index.json");
  for (const fs::directory_entry& entry : fs::directory_iterator(skeleton)) {
    if (entry.is_directory()) copy_config_files(entry.path(), out / entry.path().filename());
  }
  if (tokenizer_from_options) copy_config_files(options.tokenizer_dir, out / "tokenizer");
  // The copy must be a folder the loader takes before gigabytes are written into it.
  const DiffusersFolder folder = read_diffusers_folder(out);
  const at::ScalarType dtype = io::to_scalar_type(options.dtype);
  at::Generator generator = seeded_generator(options.device, options.seed);

  const fs::path transformer = folder.require("transformer").dir;
  write_component<models::WanTransformer3DModel>(
      "transformer", transformer, "diffusion_pytorch_model",
      read_wan_transformer_config(transformer / "config.json"), dtype, options, generator);
  const fs::path text_encoder = folder.require("text_encoder").dir;
  write_component<models::Umt5EncoderModel>("text_encoder", text_encoder, "model",
                                            read_umt5_config(text_encoder / "config.json"), dtype,
                                            options, generator);
  const fs::path vae = folder.require("vae").dir;
  write_component<models::WanVaeDecoder>("vae (decoder)", vae, "diffusion_pytorch_model",
                                         read_wan_vae_config(vae / "config.json"), at::kFloat,
                                         options, generator);
}

}  // namespace sagegen::diffusers

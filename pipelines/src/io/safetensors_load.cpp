// load_into: checks every name, shape and dtype first and reports all problems in one error, so
// a wrong checkpoint never leaves a model half-filled.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <tuple>

#include "safetensors_error.h"
#include "safetensors_load.h"
#include "sagegen/io/safetensors.h"

namespace sagegen::io {
namespace {

// Enough to see the pattern of a wrong checkpoint without a thousand-line message.
constexpr std::size_t kMaxListedProblems = 20;

std::string describe(const std::vector<std::int64_t>& shape, std::string_view dtype) {
  return fmt::format("[{}] {}", fmt::join(shape, ", "), dtype);
}

}  // namespace

void load_into(const NamedTensors& targets, const std::filesystem::path& path,
               const LoadOptions& options) {
  const SafetensorsFile file = SafetensorsFile::open(path, options.read_mode);
  detail::load_into_files(targets, {&file}, path.string(), options);
}

namespace detail {

void load_into_files(const NamedTensors& targets, const std::vector<const SafetensorsFile*>& files,
                     const std::string& label, const LoadOptions& options) {
  std::vector<std::string> problems;
  // name -> (file, entry); a name in two files is a problem of its own.
  std::map<std::string, std::pair<const SafetensorsFile*, const TensorInfo*>> entries;
  for (const SafetensorsFile* file : files) {
    for (const TensorInfo& info : file->tensors()) {
      const auto [it, inserted] = entries.emplace(info.name, std::make_pair(file, &info));
      if (!inserted) {
        problems.push_back(fmt::format("tensor '{}' is in both {} and {}", info.name,
                                       it->second.first->path().filename().string(),
                                       file->path().filename().string()));
      }
    }
  }
  std::vector<std::tuple<const SafetensorsFile*, const TensorInfo*, at::Tensor>> plan;

  for (const auto& [name, target] : targets) {
    if (!target.defined()) {
      problems.push_back(fmt::format("target tensor '{}' is undefined", name));
      continue;
    }
    const auto target_dtype = dtype_of(target.scalar_type());
    const std::string target_dtype_name =
        target_dtype ? std::string(to_string(*target_dtype)) : c10::toString(target.scalar_type());
    const auto entry = entries.find(name);
    const TensorInfo* info = entry == entries.end() ? nullptr : entry->second.second;
    if (info == nullptr) {
      problems.push_back(fmt::format("missing tensor '{}' (the model expects {})", name,
                                     describe(target.sizes().vec(), target_dtype_name)));
      continue;
    }
    if (target.sizes() != at::IntArrayRef(info->shape)) {
      problems.push_back(fmt::format("tensor '{}' has shape [{}] in the file, the model expects [{}]",
                                     name, fmt::join(info->shape, ", "),
                                     fmt::join(target.sizes(), ", ")));
      continue;
    }
    if (target_dtype != info->dtype) {
      const bool convertible = target_dtype.has_value() || at::isFloatingType(target.scalar_type());
      if (options.dtype_conversion == DTypeConversion::kReject || !convertible) {
        problems.push_back(fmt::format(
            "tensor '{}' is {} in the file, the model expects {}{}", name, to_string(info->dtype),
            target_dtype_name,
            options.dtype_conversion == DTypeConversion::kReject ? " (conversion not enabled)" : ""));
        continue;
      }
    }
    plan.emplace_back(entry->second.first, info, target);
  }
  if (options.extra_tensors == ExtraTensors::kReject) {
    for (const auto& [name, entry] : entries) {
      const TensorInfo& info = *entry.second;
      if (targets.count(info.name) == 0) {
        problems.push_back(fmt::format("unexpected tensor '{}' ({}) that the model does not have",
                                       info.name, describe(info.shape, to_string(info.dtype))));
      }
    }
  }
  if (!problems.empty()) {
    std::string message = fmt::format("{}: {} problem(s) loading into the model:", label,
                                      problems.size());
    for (std::size_t i = 0; i < problems.size() && i < kMaxListedProblems; ++i) {
      message += "\n  " + problems[i];
    }
    if (problems.size() > kMaxListedProblems) {
      message += fmt::format("\n  ... and {} more", problems.size() - kMaxListedProblems);
    }
    throw SafetensorsError(message);
  }
  for (auto& [file, info, target] : plan) file->copy_into(*info, target);
}

}  // namespace detail

}  // namespace sagegen::io

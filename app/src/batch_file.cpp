#include "batch_file.h"

#include <map>

#include <yaml-cpp/yaml.h>

#include "output_paths.h"
#include "usage_error.h"

namespace sagegen::cli {
namespace {

std::string at(const std::string& path, const YAML::Node& node) {
  return path + ":" + std::to_string(node.Mark().line + 1);
}

std::string scalar_of(const std::string& path, const std::string& key, const YAML::Node& value) {
  if (!value.IsScalar()) {
    throw UsageError(at(path, value) + ": key '" + key + "' must be a single value");
  }
  return value.Scalar();
}

void require_map(const std::string& path, const YAML::Node& node, const std::string& what) {
  if (!node.IsMap()) throw UsageError(at(path, node) + ": " + what + " must be a map of key: value");
}

// Applies every key of a map; `allow_name` for jobs (a name in defaults would repeat).
void apply_map(const std::string& path, const YAML::Node& map, GenerationSettings& settings,
               bool allow_name) {
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    const std::string where = at(path, entry.first) + ": key '" + key + "'";
    if (key == "name" && allow_name) {
      settings.name = scalar_of(path, key, entry.second);
      if (settings.name.empty() || settings.name.find('/') != std::string::npos) {
        throw UsageError(where + ": '" + settings.name + "' is not a file name");
      }
      continue;
    }
    if (!is_generation_key(key)) {
      throw UsageError(at(path, entry.first) + ": unknown key '" + key + "'" +
                       (allow_name ? " in a job" : " in defaults") +
                       " (generation keys as the flags without --, e.g. cfg-scale" +
                       (allow_name ? ", plus name)" : ")"));
    }
    apply_generation_setting(settings, key, scalar_of(path, key, entry.second), where);
  }
}

}  // namespace

BatchFile load_batch_file(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& overrides) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw UsageError("batch file '" + path + "' cannot be read");
  } catch (const YAML::Exception& e) {
    throw UsageError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) throw UsageError(path + ": expected a map with defaults, out_dir and jobs");

  BatchFile batch;
  GenerationSettings defaults;
  YAML::Node jobs;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (key == "defaults") {
      require_map(path, entry.second, "defaults");
      apply_map(path, entry.second, defaults, /*allow_name=*/false);
    } else if (key == "out_dir") {
      batch.out_dir = scalar_of(path, key, entry.second);
    } else if (key == "jobs") {
      jobs = entry.second;
    } else {
      throw UsageError(at(path, entry.first) + ": unknown key '" + key +
                       "' (expected defaults, out_dir, jobs)");
    }
  }
  if (!jobs || !jobs.IsSequence() || jobs.size() == 0) {
    throw UsageError(path + ": 'jobs' must be a non-empty list");
  }

  std::map<std::string, int> line_of_stem;
  for (const auto& node : jobs) {
    BatchJob job;
    job.line = node.Mark().line + 1;
    job.settings = defaults;
    require_map(path, node, "a job");
    apply_map(path, node, job.settings, /*allow_name=*/true);
    for (const auto& [key, value] : overrides) {
      apply_generation_setting(job.settings, key, value, "--" + key);
    }
    const std::string where = at(path, node);
    validate_settings(job.settings, where);
    const auto& r = job.settings.request;
    if (!job.settings.name.empty()) {
      job.stem = job.settings.name;
    } else if (r.seed >= 0) {
      job.stem = default_stem(r.prompt, r.seed);
    }  // else: a random seed, named once it is drawn; such a job can't be resumed
    if (!job.stem.empty()) {
      const auto [it, inserted] = line_of_stem.emplace(job.stem, job.line);
      if (!inserted) {
        throw UsageError(where + ": output name '" + job.stem + "' is also used by the job at line " +
                         std::to_string(it->second) + " (give one a different name: or seed:)");
      }
    }
    batch.jobs.push_back(std::move(job));
  }
  return batch;
}

}  // namespace sagegen::cli

// Training batches from the shapes world, rendered ahead of the trainer on background threads so
// that data generation overlaps the GPU's work instead of adding to it.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include <deque>
#include <future>
#include <utility>

#include "sagegen/errors.h"
#include "sagegen/train/training_data.h"
#include "sagegen/world/shapes_world.h"
#include "seeds.h"

namespace sagegen::train {
namespace {

// Scene seeds are distinct per (step, sample): a batch never repeats a scene by construction.
TrainingBatch render_batch(const TrainConfig& config, std::int64_t step) {
  at::NoGradGuard no_grad;
  const FramesMixEntry kind = frames_for_step(config, step);
  world::WorldOptions options;
  options.size = config.size;
  options.frames = kind.frames;
  options.max_objects = config.max_objects;
  options.two_object_share = static_cast<float>(config.two_object_share);
  TrainingBatch batch;
  std::vector<at::Tensor> videos;
  videos.reserve(kind.batch);
  for (int i = 0; i < kind.batch; ++i) {
    const std::uint64_t scene_seed = derive_seed(
        config.seed, SeedStream::kScene, static_cast<std::uint64_t>(step) * 65536u + i);
    world::Sample sample = world::make_sample(options, scene_seed);
    videos.push_back(sample.pixels);  // [F, H, W, 3] uint8
    batch.captions.push_back(std::move(sample.caption));
  }
  // [B, F, H, W, 3] uint8: the trainer makes [B, 3, F, H, W] floats in [-1, 1] on its device,
  // so these threads do no float work (and no intra-op thread pools of their own).
  batch.pixels = at::stack(videos);
  return batch;
}

class ShapesWorldData : public TrainingData {
 public:
  explicit ShapesWorldData(TrainConfig config) : config_(std::move(config)) {}

  ~ShapesWorldData() override {
    for (auto& pending : queue_) pending.second.wait();
  }

  TrainingBatch batch_for_step(std::int64_t step) override {
    // A step out of order (resume, or a caller that skipped): drop what was rendered ahead.
    if (!queue_.empty() && queue_.front().first != step) {
      for (auto& pending : queue_) pending.second.wait();
      queue_.clear();
    }
    std::int64_t next = queue_.empty() ? step : queue_.back().first + 1;
    while (static_cast<int>(queue_.size()) < config_.data_threads + 1) {
      const TrainConfig* config = &config_;
      queue_.emplace_back(next, std::async(std::launch::async, [config, next] {
                            return render_batch(*config, next);
                          }));
      ++next;
    }
    TrainingBatch batch = queue_.front().second.get();
    queue_.pop_front();
    return batch;
  }

 private:
  TrainConfig config_;
  std::deque<std::pair<std::int64_t, std::future<TrainingBatch>>> queue_;
};

}  // namespace

std::unique_ptr<TrainingData> make_shapes_world_data(const TrainConfig& config) {
  for (const auto& entry : config.frames_mix) {
    if (entry.frames != 1 && (entry.frames < 8 || entry.frames > 16)) {
      throw ConfigError(fmt::format("{}: frames_mix: frames must be 1 (images) or 8..16 (video) "
                                    "for the shapes world, got {}",
                                    config.source_path, entry.frames));
    }
  }
  if (config.size < 32) {
    throw ConfigError(fmt::format("{}: size: the shapes world renders at least 32x32, got {}",
                                  config.source_path, config.size));
  }
  return std::make_unique<ShapesWorldData>(config);
}

}  // namespace sagegen::train

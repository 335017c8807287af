// Training batches from the shapes world, rendered ahead of the trainer on background threads so
// that data generation overlaps the GPU's work instead of adding to it.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
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
  batch.timestep_shift = kind.shift;
  // [B, F, H, W, 3] uint8, filled sample by sample with memcpy rather than at::stack, which
  // splits large copies (a clip batch) over the intra-op OpenMP pool: on a fresh std::async
  // thread that starts a new team as wide as the machine, whose spinning threads compete with
  // the one thread that launches the GPU's work.
  const std::int64_t sample_bytes =
      static_cast<std::int64_t>(kind.frames) * config.size * config.size * 3;
  batch.pixels = at::empty({kind.batch, kind.frames, config.size, config.size, 3}, at::kByte);
  std::uint8_t* out = batch.pixels.data_ptr<std::uint8_t>();
  for (int i = 0; i < kind.batch; ++i) {
    const std::uint64_t scene_seed = derive_seed(
        config.seed, SeedStream::kScene, static_cast<std::uint64_t>(step) * 65536u + i);
    world::Sample sample = world::make_sample(options, scene_seed);
    TORCH_CHECK(sample.pixels.is_contiguous() && sample.pixels.numel() == sample_bytes,
                "render_batch: the world returned pixels of shape ", sample.pixels.sizes());
    std::memcpy(out + i * sample_bytes, sample.pixels.data_ptr<std::uint8_t>(), sample_bytes);
    batch.captions.push_back(std::move(sample.caption));
  }
  // The trainer makes [B, 3, F, H, W] floats in [-1, 1] on its device, so these threads do no
  // float work.
  return batch;
}

class ShapesWorldData : public TrainingData {
 public:
  ShapesWorldData(TrainConfig config, BatchPreparer prepare)
      : config_(std::move(config)), prepare_(std::move(prepare)) {}

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
      queue_.emplace_back(next, std::async(std::launch::async, [this, next] {
                            return render_and_prepare(next);
                          }));
      ++next;
    }
    TrainingBatch batch = queue_.front().second.get();
    queue_.pop_front();
    return batch;
  }

  DataStats stats() const override {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    return stats_;
  }

 private:
  TrainingBatch render_and_prepare(std::int64_t step) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    TrainingBatch batch = render_batch(config_, step);
    const auto rendered = Clock::now();
    if (prepare_) prepare_(batch);
    const auto prepared = Clock::now();
    std::lock_guard<std::mutex> lock(stats_mutex_);
    ++stats_.batches;
    stats_.render_seconds += std::chrono::duration<double>(rendered - start).count();
    stats_.prepare_seconds += std::chrono::duration<double>(prepared - rendered).count();
    return batch;
  }

  TrainConfig config_;
  BatchPreparer prepare_;
  mutable std::mutex stats_mutex_;
  DataStats stats_;
  std::deque<std::pair<std::int64_t, std::future<TrainingBatch>>> queue_;
};

}  // namespace

std::unique_ptr<TrainingData> make_shapes_world_data(const TrainConfig& config,
                                                     BatchPreparer prepare) {
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
  return std::make_unique<ShapesWorldData>(config, std::move(prepare));
}

}  // namespace sagegen::train

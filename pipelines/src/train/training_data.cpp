#include "sagegen/train/training_data.h"

#include <ATen/ATen.h>

#include "seeds.h"

namespace sagegen::train {
namespace {

class FixedData : public TrainingData {
 public:
  explicit FixedData(TrainingBatch batch) : batch_(std::move(batch)) {}
  TrainingBatch batch_for_step(std::int64_t) override { return batch_; }

 private:
  TrainingBatch batch_;
};

}  // namespace

FramesMixEntry frames_for_step(const TrainConfig& config, std::int64_t step) {
  TORCH_CHECK(!config.frames_mix.empty(), "frames_for_step: the frames mix is empty");
  double total = 0;
  for (const auto& entry : config.frames_mix) total += entry.weight;
  const double draw =
      total * unit_interval(derive_seed(config.seed, SeedStream::kFramesMix, step));
  FramesMixEntry chosen = config.frames_mix.back();
  double cumulative = 0;
  for (const auto& entry : config.frames_mix) {
    cumulative += entry.weight;
    if (draw < cumulative) {
      chosen = entry;
      break;
    }
  }
  if (chosen.batch == 0) chosen.batch = config.batch;
  return chosen;
}

std::unique_ptr<TrainingData> make_fixed_data(TrainingBatch batch) {
  TORCH_CHECK(batch.pixels.dim() == 5 && batch.pixels.size(0) ==
                  static_cast<std::int64_t>(batch.captions.size()),
              "make_fixed_data: pixels must be [B, 3, F, H, W] with one caption per sample, got ",
              batch.pixels.sizes(), " and ", batch.captions.size(), " captions");
  return std::make_unique<FixedData>(std::move(batch));
}

}  // namespace sagegen::train

#include "sagegen/train/benchmark.h"

#include <ATen/record_function.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace sagegen::train {
namespace {

using Clock = std::chrono::steady_clock;
// Warm-up steps at most, after options.warmup_steps, while batch kinds still wait for a graph.
constexpr int kMaxStepsUntilCaptured = 100;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void synchronize(const at::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

// Pass 3: kernels by name under the Kineto profiler (device time on CUDA; on the CPU the ops'
// inclusive time, nested calls counted in each of their callers).
void profile_steps(Trainer& trainer, TrainingData& data, const BenchmarkOptions& options,
                   BenchmarkReport& report) {
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  const at::Device device = trainer.device();
  const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  std::set<ActivityType> activities{ActivityType::CPU};
  if (device.is_cuda()) activities.insert(ActivityType::CUDA);
  std::unique_ptr<prof::ProfilerResult> result;
  try {
    prof::prepareProfiler(config, activities);
    prof::enableProfiler(config, activities);
    for (int i = 0; i < options.profile_steps; ++i) {
      trainer.train_step(data.batch_for_step(trainer.step()));
    }
    synchronize(device);
    result = prof::disableProfiler();
  } catch (const std::exception& e) {
    report.profile_error = e.what();
    return;
  }
  struct Total {
    double ns = 0;
    std::int64_t calls = 0;
  };
  std::map<std::string, Total> by_name;
  double busy_ns = 0;
  std::int64_t launches = 0, cpu_ops = 0;
  for (const auto& event : result->events()) {
    const bool on_device = event.deviceType() != c10::DeviceType::CPU;
    if (!on_device && event.scope() == static_cast<std::uint8_t>(at::RecordScope::FUNCTION)) ++cpu_ops;
    if (on_device != device.is_cuda()) continue;
    if (!on_device && event.scope() != static_cast<std::uint8_t>(at::RecordScope::FUNCTION)) continue;
    Total& total = by_name[event.name()];
    total.ns += static_cast<double>(event.durationNs());
    ++total.calls;
    if (on_device) {
      busy_ns += static_cast<double>(event.durationNs());
      ++launches;
    }
  }
  const double steps = options.profile_steps;
  for (const auto& [name, total] : by_name) {
    report.kernels.push_back({name.size() > 90 ? name.substr(0, 87) + "..." : name,
                              total.ns / 1e6 / steps, static_cast<double>(total.calls) / steps});
  }
  std::sort(report.kernels.begin(), report.kernels.end(),
            [](const auto& a, const auto& b) { return a.ms_per_step > b.ms_per_step; });
  report.busy_ms = busy_ns / 1e6 / steps;
  report.launches_per_step = device.is_cuda() ? launches / steps : cpu_ops / steps;
  if (!options.trace_path.empty()) result->save(options.trace_path);
}

}  // namespace

BenchmarkReport benchmark_training(Trainer& trainer, TrainingData& data,
                                   const BenchmarkOptions& options) {
  TORCH_CHECK(options.steps >= 1 && options.warmup_steps >= 0 && options.profile_steps >= 0,
              "benchmark_training: steps must be >= 1, warm-up and profile steps >= 0");
  const at::Device device = trainer.device();
  BenchmarkReport report;
  report.device = device.str();
  report.steps = options.steps;
  report.data_threads = trainer.config().data_threads;

  for (int i = 0; i < options.warmup_steps; ++i) trainer.train_step(data.batch_for_step(trainer.step()));
  // With CUDA graphs, warm up until every kind of batch in the mix has its graph (a capture is
  // tens of ms of host work that no later step repeats), within a bound: a rare kind may not
  // come up.
  if (trainer.step_mode() != "eager") {
    std::set<std::pair<int, int>> kinds;
    for (const auto& entry : trainer.config().frames_mix) {
      kinds.emplace(entry.frames, entry.batch > 0 ? entry.batch : trainer.config().batch);
    }
    for (int i = 0; i < kMaxStepsUntilCaptured &&
                    trainer.graphs_captured() < static_cast<int>(kinds.size());
         ++i) {
      trainer.train_step(data.batch_for_step(trainer.step()));
    }
  }
  synchronize(device);

  // Pass 1: as a run trains (the losses stay on the device; one synchronisation at the end).
  double wait_ms = 0, samples = 0;
  const auto start = Clock::now();
  for (int i = 0; i < options.steps; ++i) {
    const auto asked = Clock::now();
    const TrainingBatch batch = data.batch_for_step(trainer.step());
    wait_ms += ms_since(asked);
    samples += static_cast<double>(batch.pixels.size(0));
    trainer.train_step(batch);
  }
  synchronize(device);
  report.step_ms = ms_since(start) / options.steps;
  report.data_wait_ms = wait_ms / options.steps;
  report.samples_per_step = samples / options.steps;
  // Every batch rendered so far (warm-up ones included: a batch's cost does not change, and
  // the prefetch queue makes "the batches of this pass" a race).
  const DataStats stats = data.stats();
  if (stats.batches > 0) {
    report.render_ms_per_batch = stats.render_seconds * 1e3 / static_cast<double>(stats.batches);
    report.prepare_ms_per_batch = stats.prepare_seconds * 1e3 / static_cast<double>(stats.batches);
  }

  // Pass 2: the device synchronised at the end of every phase, to time each one.
  std::vector<std::pair<std::string, double>> phase_ms;
  auto last = Clock::now();
  trainer.set_phase_callback([&](const char* phase) {
    synchronize(device);
    const double ms = ms_since(last);
    auto it = std::find_if(phase_ms.begin(), phase_ms.end(),
                           [&](const auto& entry) { return entry.first == phase; });
    if (it == phase_ms.end()) {
      phase_ms.emplace_back(phase, ms);
    } else {
      it->second += ms;
    }
    last = Clock::now();
  });
  double synced_wait_ms = 0;
  for (int i = 0; i < options.steps; ++i) {
    const auto asked = Clock::now();
    const TrainingBatch batch = data.batch_for_step(trainer.step());
    synced_wait_ms += ms_since(asked);
    last = Clock::now();
    trainer.train_step(batch);
  }
  trainer.set_phase_callback({});
  report.phases.push_back({"data wait", synced_wait_ms / options.steps, 1});
  for (const auto& [phase, ms] : phase_ms) report.phases.push_back({phase, ms / options.steps, 1});

  if (options.profile_steps > 0) profile_steps(trainer, data, options, report);
  report.mode = trainer.step_mode();
  return report;
}

std::string format_benchmark(const BenchmarkReport& r) {
  std::string text = fmt::format(
      "benchmark ({}, {}, {:.0f} samples a step, {} steps a pass):\n"
      "  step {:.1f} ms as trained ({:.0f} samples/s), of which {:.1f} ms waiting for data\n"
      "  data threads: {:.1f} ms to render + {:.1f} ms to prepare a batch on one thread, {} threads "
      "(a batch every {:.1f} ms at most)\n"
      "  synchronised after each phase (ms a step):",
      r.device, r.mode, r.samples_per_step, r.steps, r.step_ms,
      r.step_ms > 0 ? r.samples_per_step * 1e3 / r.step_ms : 0.0, r.data_wait_ms,
      r.render_ms_per_batch, r.prepare_ms_per_batch, r.data_threads,
      (r.render_ms_per_batch + r.prepare_ms_per_batch) / std::max(r.data_threads, 1));
  double synced = 0;
  for (const auto& phase : r.phases) {
    text += fmt::format(" {} {:.1f};", phase.name, phase.ms_per_step);
    synced += phase.ms_per_step;
  }
  text += fmt::format(" total {:.1f}\n", synced);
  if (!r.profile_error.empty()) {
    text += fmt::format("  profiler: not run ({})\n", r.profile_error);
  } else if (!r.kernels.empty()) {
    const bool device = r.busy_ms > 0;
    text += device ? fmt::format("  profiler: device busy {:.1f} ms a step, {:.0f} kernels and copies a step; "
                                 "busiest (ms a step, calls a step):\n",
                                 r.busy_ms, r.launches_per_step)
                   : fmt::format("  profiler: {:.0f} ops dispatched a step (nested calls "
                                 "included); busiest by inclusive time (ms a step, calls a step):\n",
                                 r.launches_per_step);
    const std::size_t rows = std::min<std::size_t>(r.kernels.size(), 25);
    for (std::size_t i = 0; i < rows; ++i) {
      text += fmt::format("    {:8.2f} {:6.0f}  {}\n", r.kernels[i].ms_per_step,
                          r.kernels[i].calls_per_step, r.kernels[i].name);
    }
  }
  return text;
}

}  // namespace sagegen::train

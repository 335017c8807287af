#include "step_graphs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <utility>

#include "sagegen/errors.h"

#if SAGEGEN_TRAIN_CUDA_GRAPHS
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace sagegen::train {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

#if SAGEGEN_TRAIN_CUDA_GRAPHS

struct StepGraphs::Impl {
  struct Shape {
    int eager_runs = 0;
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    StepOutputs outputs;  // written by every replay; kept alive so the pool never reuses them
  };
  c10::DeviceIndex device = 0;
  int eager_steps = 3;
  // Eager warm-up and capture: a graph cannot be captured on the default stream.
  c10::cuda::CUDAStream side;
  at::cuda::MempoolId_t pool;
  std::map<std::string, Shape> shapes;
  int captured = 0;
  bool capturing = false;

  Impl(c10::DeviceIndex index, int eager)
      : device(index),
        eager_steps(eager),
        side(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index)),
        pool(at::cuda::graph_pool_handle()) {}

  // `waiter` runs what is queued after this on `waited`'s work so far (no host wait).
  static void order_after(const c10::cuda::CUDAStream& waiter,
                          const c10::cuda::CUDAStream& waited) {
    at::cuda::CUDAEvent event;
    event.record(waited);
    event.block(waiter);
  }

  void capture(const std::string& name, Shape& shape,
               const std::function<StepOutputs(bool)>& step) {
    const auto start = std::chrono::steady_clock::now();
    shape.graph = std::make_unique<at::cuda::CUDAGraph>();
    capturing = true;
    try {
      // Thread-local capture mode: the data threads pin memory (cudaHostAlloc) while this
      // thread captures, which the global mode would forbid them.
      shape.graph->capture_begin(pool, cudaStreamCaptureModeThreadLocal);
      shape.outputs = step(/*capturing=*/true);
      shape.graph->capture_end();
    } catch (const std::exception& e) {
      capturing = false;
      // Leave the side stream out of capture mode and the allocator out of the graph's pool,
      // so the error reaches the user instead of a second failure (either may be done already,
      // depending on where the capture failed).
      cudaGraph_t broken = nullptr;
      if (cudaStreamEndCapture(side.stream(), &broken) == cudaSuccess && broken != nullptr) {
        cudaGraphDestroy(broken);
      }
      try {
        c10::cuda::CUDACachingAllocator::endAllocateToPool(device, pool);
      } catch (const std::exception&) {
      }
      (void)cudaGetLastError();
      shape.graph.reset();
      throw RunError(fmt::format(
          "train: capturing the training step ({}) in a CUDA graph failed: {}; train without "
          "graphs with --cuda-graphs off (config key cuda_graphs: false)",
          name, first_line(e.what())));
    }
    capturing = false;
    ++captured;
    spdlog::info("train: CUDA graph {} captured for batch shape {} in {:.0f} ms", captured, name,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
};

bool StepGraphs::available() { return true; }

StepGraphs::StepGraphs(const c10::Device& device, int eager_steps) {
  TORCH_CHECK(device.is_cuda() && eager_steps >= 1, "StepGraphs: a CUDA device and eager_steps "
              ">= 1, got ", device, " and ", eager_steps);
  impl_ = std::make_unique<Impl>(device.has_index() ? device.index() : c10::cuda::current_device(),
                                 eager_steps);
}

StepGraphs::~StepGraphs() = default;

StepOutputs StepGraphs::run(const std::string& shape_name,
                            const std::function<StepOutputs(bool)>& step) {
  Impl& m = *impl_;
  Impl::Shape& shape = m.shapes[shape_name];
  const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(m.device);
  if (shape.graph) {
    shape.graph->replay();  // on the current stream, after the inputs' copies queued there
    return shape.outputs;
  }
  // Warm-up and capture on the side stream, ordered after the inputs written on the current one.
  Impl::order_after(m.side, current);
  StepOutputs outputs;
  {
    const c10::cuda::CUDAStreamGuard guard(m.side);
    if (shape.eager_runs < m.eager_steps) {
      outputs = step(/*capturing=*/false);
      ++shape.eager_runs;
    } else {
      m.capture(shape_name, shape, step);
    }
  }
  Impl::order_after(current, m.side);
  if (shape.graph) {
    // A capture records the step without running it: this step runs as the first replay.
    shape.graph->replay();
    outputs = shape.outputs;
  }
  return outputs;
}

int StepGraphs::captured() const { return impl_->captured; }
bool StepGraphs::capturing() const { return impl_->capturing; }

#else  // no CUDA in this build: the trainer never asks for graphs on a device it cannot have

struct StepGraphs::Impl {};

bool StepGraphs::available() { return false; }

StepGraphs::StepGraphs(const c10::Device&, int) {
  throw RunError("train: this build of sagegen has no CUDA, so no CUDA graphs; train with "
                 "--cuda-graphs off (config key cuda_graphs: false)");
}

StepGraphs::~StepGraphs() = default;

StepOutputs StepGraphs::run(const std::string&, const std::function<StepOutputs(bool)>&) {
  return {};
}

int StepGraphs::captured() const { return 0; }
bool StepGraphs::capturing() const { return false; }

#endif

}  // namespace sagegen::train

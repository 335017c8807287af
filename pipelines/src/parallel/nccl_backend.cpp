// ProcessGroupNCCL.hpp needs nccl.h, and the struct it holds (ncclConfig_t inside the options)
// changes size between NCCL releases: the header must be of the release torch was built with.
// torch::cuda::nccl::version() returns that release (major << 32 | minor << 16 | patch, fixed when
// libtorch_cuda was compiled), so the check below runs before any options object is made.
#include "backends.h"

#if SAGEGEN_WITH_NCCL
#include <torch/csrc/cuda/nccl.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <c10/util/Exception.h>

namespace sagegen::parallel::detail {

#if SAGEGEN_WITH_NCCL

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank, int size,
                                                    std::chrono::milliseconds timeout) {
  const std::uint64_t torch_nccl = torch::cuda::nccl::version();
  const std::uint64_t torch_major = torch_nccl >> 32, torch_minor = (torch_nccl >> 16) & 0xffff;
  TORCH_CHECK(torch_major == NCCL_MAJOR && torch_minor == NCCL_MINOR, "libtorch was built with "
              "NCCL ", torch_major, ".", torch_minor, " but this sagegen was compiled with the "
              "nccl.h of NCCL ", NCCL_MAJOR, ".", NCCL_MINOR, "; ProcessGroupNCCL's options differ "
              "in layout between releases: point SAGEGEN_NCCL_INCLUDE_DIR at NCCL ", torch_major,
              ".", torch_minor, "'s include folder and rebuild");
  // The watchdog aborts the communicator when a collective outlives `timeout` (a dead rank):
  // the other ranks then stop with an error instead of spinning on the GPU forever.
  auto options = c10::make_intrusive<c10d::ProcessGroupNCCL::Options>();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
}

#else

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>&, int,
                                                    int, std::chrono::milliseconds) {
  TORCH_CHECK(false, "this sagegen was built without NCCL (needs a CUDA build with nccl.h of the "
              "release torch was built with: docs/multi-gpu.md), so several GPUs cannot work "
              "together; use one GPU");
}

#endif

}  // namespace sagegen::parallel::detail

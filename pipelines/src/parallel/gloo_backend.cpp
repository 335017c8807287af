// ProcessGroupGloo.hpp includes gloo's public headers, which the torch wheel does not ship; the
// build takes them from Debian's libgloo-dev (SAGEGEN_WITH_GLOO). Only the headers: the gloo code
// that runs is the copy inside libtorch_cpu, and nothing here links Debian's libgloo. That is
// sound because this file only calls functions libtorch exports (the constructors, the device
// factory) and keeps gloo objects behind pointers, whose layout no gloo version changes;
// docs/multi-gpu.md has the details.
#include "backends.h"

#if SAGEGEN_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#include <c10/util/Exception.h>

#include <cstdlib>

namespace sagegen::parallel::detail {

#if SAGEGEN_WITH_GLOO

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank, int size,
                                                    std::chrono::milliseconds timeout,
                                                    const std::string& bind_address) {
  auto options = c10::make_intrusive<c10d::ProcessGroupGloo::Options>(timeout);
  // GLOO_SOCKET_IFNAME as torch.distributed reads it; else the master's loopback address on one
  // host (the host name may not resolve in containers), else the host's default address.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  } else if (!bind_address.empty()) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(bind_address));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
}

#else

c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>&, int,
                                                    int, std::chrono::milliseconds,
                                                    const std::string&) {
  TORCH_CHECK(false, "this sagegen was built without Gloo (gloo's headers were not found at "
              "configure time: apt-get install libgloo-dev and reconfigure), so several CPU "
              "processes cannot work together; use CUDA devices (NCCL) or one process");
}

#endif

}  // namespace sagegen::parallel::detail

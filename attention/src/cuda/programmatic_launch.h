// The launch of a kernel that may overlap the end of the kernel before it on the stream
// (programmatic dependent launch, grid_dependency.cuh). For .cu files: it uses the runtime's
// cudaLaunchKernelEx template.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace sageattn::cuda {

// kernel<<<grid, block, smem_bytes, stream>>>(args...), with the programmatic stream
// serialization attribute when `programmatic`: the kernel's CTAs may then start before the
// previous kernel on the stream ends, so every read of that kernel's outputs must come after a
// wait_for_prerequisite_grids of the reading thread (or of the thread whose copies it waits
// for). Errors are left for the caller's launch check (cudaGetLastError), as with <<<>>>.
template <typename... KernelArgs, typename... Args>
void launch_kernel(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, std::size_t smem_bytes,
                   cudaStream_t stream, bool programmatic, Args&&... args) {
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem_bytes;
  config.stream = stream;
  config.attrs = &attribute;
  config.numAttrs = programmatic ? 1 : 0;
  (void)cudaLaunchKernelEx(&config, kernel, static_cast<Args&&>(args)...);
}

}  // namespace sageattn::cuda

# Decides whether the CUDA kernels are compiled. Runs before find_package(Torch), whose config
# looks for the CUDA toolkit itself and turns TORCH_CUDA_ARCH_LIST into -gencode flags.
include(CheckLanguage)
# sm_80/sm_89 for the mma.sync kernels, sm_90a for wgmma (the "a" unlocks it). On the GPU
# machine -DSAGEGEN_CUDA_ARCHS=90a builds only what runs there.
set(SAGEGEN_CUDA_ARCHS "80;89;90a" CACHE STRING "CUDA architectures of the kernels")

if(SAGEGEN_CUDA STREQUAL "OFF")
  set(SAGEGEN_WITH_CUDA OFF)
else()
  # The architecture flags come from torch's config (below), so CMake adds none of its own:
  # both would compile every kernel twice.
  set(CMAKE_CUDA_ARCHITECTURES OFF)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(SAGEGEN_WITH_CUDA ON)
    set(_torch_archs "")
    foreach(_arch IN LISTS SAGEGEN_CUDA_ARCHS)
      string(REGEX REPLACE "^([0-9]+)([0-9])(a?)$" "\\1.\\2\\3" _torch_arch "${_arch}")
      list(APPEND _torch_archs "${_torch_arch}")
    endforeach()
    set(ENV{TORCH_CUDA_ARCH_LIST} "${_torch_archs}")
  elseif(SAGEGEN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "SAGEGEN_CUDA=ON but no CUDA compiler (nvcc) was found; "
                        "install the CUDA toolkit or configure with -DSAGEGEN_CUDA=OFF")
  else()
    set(SAGEGEN_WITH_CUDA OFF)
  endif()
endif()
message(STATUS "sagegen: CUDA kernels ${SAGEGEN_WITH_CUDA} (architectures: ${SAGEGEN_CUDA_ARCHS})")

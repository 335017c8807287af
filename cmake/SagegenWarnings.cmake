# Compiler warnings for the project's own C++ code. Applied per target (never through
# CMAKE_CXX_FLAGS), so third-party code the build compiles (googletest's sources on the GPU
# machine) keeps its own flags; third-party headers (torch, CUDA, OpenCV) come in through
# imported targets and so as -isystem, where the compiler does not warn.

# -Wall -Wextra on the C++ sources of TARGET. The CUDA sources of a target are left as they are:
# nvcc's host pass over the kernels keeps its defaults; scripts/cuda_host_warnings.sh checks it.
function(sagegen_enable_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
  endif()
endfunction()

# Every library and executable defined in DIR and below it that belongs to this source tree.
function(sagegen_enable_warnings_below dir)
  get_property(_targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_type ${_target} TYPE)
    if(_type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
      sagegen_enable_warnings(${_target})
    endif()
  endforeach()
  get_property(_subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(_subdir IN LISTS _subdirs)
    cmake_path(IS_PREFIX CMAKE_SOURCE_DIR "${_subdir}" NORMALIZE _ours)
    if(_ours)
      sagegen_enable_warnings_below(${_subdir})
    endif()
  endforeach()
endfunction()

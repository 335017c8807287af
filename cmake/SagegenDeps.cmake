# Third-party dependencies, all from system packages or the torch wheel; nothing is vendored.

# libtorch: the torch wheel in the project's venv (scripts/setup.sh), or any torch whose
# cmake prefix is on CMAKE_PREFIX_PATH (the GPU machine's system torch).
if(NOT Torch_DIR AND EXISTS "${CMAKE_SOURCE_DIR}/.venv")
  file(GLOB _sagegen_torch_cmake "${CMAKE_SOURCE_DIR}/.venv/lib/python3*/site-packages/torch/share/cmake/Torch")
  if(_sagegen_torch_cmake)
    list(GET _sagegen_torch_cmake 0 Torch_DIR)
  endif()
endif()
find_package(Torch REQUIRED)
if(SAGEGEN_WITH_CUDA AND NOT CMAKE_CUDA_FLAGS MATCHES "gencode")
  # A torch without CUDA adds no architecture flags; add them here.
  foreach(_arch IN LISTS SAGEGEN_CUDA_ARCHS)
    string(APPEND CMAKE_CUDA_FLAGS " -gencode=arch=compute_${_arch},code=sm_${_arch}")
  endforeach()
endif()
message(STATUS "sagegen: torch ${Torch_VERSION} from ${Torch_DIR}")
if(SAGEGEN_WITH_CUDA AND NOT TARGET torch_cuda)
  message(WARNING "sagegen: this libtorch has no CUDA; the CUDA kernels are compiled but not linked")
endif()

find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
# libtorch ships its own (newer) fmt headers, which shadow the system fmt that spdlog was built
# against and break spdlog's headers. A directory holding only a link to the system fmt, put on
# the -I path of spdlog's users (searched before torch's -isystem directories), restores it.
if(TARGET fmt::fmt AND NOT TARGET sagegen_system_fmt)
  get_target_property(_sagegen_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  list(GET _sagegen_fmt_include 0 _sagegen_fmt_include)
  if(EXISTS "${_sagegen_fmt_include}/fmt/core.h")
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/system_fmt)
    file(CREATE_LINK "${_sagegen_fmt_include}/fmt" ${CMAKE_BINARY_DIR}/system_fmt/fmt SYMBOLIC)
    add_library(sagegen_system_fmt INTERFACE)
    target_include_directories(sagegen_system_fmt INTERFACE ${CMAKE_BINARY_DIR}/system_fmt)
    set_property(TARGET spdlog::spdlog APPEND PROPERTY INTERFACE_LINK_LIBRARIES sagegen_system_fmt)
  endif()
endif()
find_package(nlohmann_json 3 REQUIRED)
# CLI11, header-only (Debian libcli11-dev): the command-line parsers of app/. A machine without
# the package and without network (the GPU machine) can carry its headers in .deps/cli11/CLI/
# (scripts/stage_cli11.sh copies them there; .deps/ is ignored, nothing third-party is committed).
find_package(CLI11 CONFIG QUIET)
if(NOT TARGET CLI11::CLI11)
  find_path(SAGEGEN_CLI11_INCLUDE_DIR CLI/CLI.hpp HINTS ${CMAKE_SOURCE_DIR}/.deps/cli11)
  if(NOT SAGEGEN_CLI11_INCLUDE_DIR)
    message(FATAL_ERROR "sagegen: CLI11 not found (apt-get install libcli11-dev, or run "
                        "scripts/stage_cli11.sh on a machine that has it and carry .deps/)")
  endif()
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${SAGEGEN_CLI11_INCLUDE_DIR})
endif()
find_package(PNG REQUIRED)
find_package(Threads REQUIRED)

# sentencepiece: umT5's tokenizer, for Wan2.1 diffusers folders. Required (Debian
# libsentencepiece-dev), or a folder with include/ and lib/ named by SAGEGEN_SENTENCEPIECE_ROOT
# for machines without the package (scripts/bundle_sentencepiece.sh copies this machine's into
# one). SAGEGEN_SENTENCEPIECE=OFF builds without it, for a machine that has neither (the GPU
# machine's kernel runs): then a Wan folder's tokenizer is a ConfigError saying so.
option(SAGEGEN_SENTENCEPIECE "umT5's tokenizer through sentencepiece (Wan2.1 folders)" ON)
set(SAGEGEN_SENTENCEPIECE_ROOT "" CACHE PATH "a folder holding include/sentencepiece_processor.h and lib/libsentencepiece.so")
set(SAGEGEN_WITH_SENTENCEPIECE OFF)
if(SAGEGEN_SENTENCEPIECE)
  find_path(SAGEGEN_SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h
    HINTS ${SAGEGEN_SENTENCEPIECE_ROOT}/include)
  find_library(SAGEGEN_SENTENCEPIECE_LIBRARY NAMES sentencepiece
    HINTS ${SAGEGEN_SENTENCEPIECE_ROOT}/lib)
  if(NOT SAGEGEN_SENTENCEPIECE_INCLUDE_DIR OR NOT SAGEGEN_SENTENCEPIECE_LIBRARY)
    message(FATAL_ERROR "sentencepiece not found: apt-get install libsentencepiece-dev, or "
      "-DSAGEGEN_SENTENCEPIECE_ROOT=DIR with a folder scripts/bundle_sentencepiece.sh made, or "
      "-DSAGEGEN_SENTENCEPIECE=OFF (no Wan2.1 folders)")
  endif()
  if(NOT TARGET sagegen_sentencepiece)
    add_library(sagegen_sentencepiece UNKNOWN IMPORTED)
    set_target_properties(sagegen_sentencepiece PROPERTIES
      IMPORTED_LOCATION ${SAGEGEN_SENTENCEPIECE_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${SAGEGEN_SENTENCEPIECE_INCLUDE_DIR})
  endif()
  set(SAGEGEN_WITH_SENTENCEPIECE ON)
endif()
message(STATUS "sagegen: sentencepiece ${SAGEGEN_WITH_SENTENCEPIECE} ${SAGEGEN_SENTENCEPIECE_LIBRARY}")

if(SAGEGEN_OPENCV STREQUAL "OFF")
  set(SAGEGEN_WITH_OPENCV OFF)
else()
  find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs videoio)
  if(OpenCV_FOUND)
    set(SAGEGEN_WITH_OPENCV ON)
  elseif(SAGEGEN_OPENCV STREQUAL "ON")
    message(FATAL_ERROR "SAGEGEN_OPENCV=ON but OpenCV was not found (apt-get install libopencv-dev)")
  else()
    set(SAGEGEN_WITH_OPENCV OFF)
  endif()
endif()
message(STATUS "sagegen: OpenCV ${SAGEGEN_WITH_OPENCV}")

if(SAGEGEN_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    # The GPU machine ships googletest as sources only.
    foreach(_src /usr/src/googletest /usr/src/gtest)
      if(EXISTS "${_src}/CMakeLists.txt")
        set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
        add_subdirectory(${_src} ${CMAKE_BINARY_DIR}/_googletest EXCLUDE_FROM_ALL)
        if(NOT TARGET GTest::gtest_main)
          add_library(GTest::gtest ALIAS gtest)
          add_library(GTest::gtest_main ALIAS gtest_main)
        endif()
        break()
      endif()
    endforeach()
  endif()
  if(NOT TARGET GTest::gtest_main)
    message(FATAL_ERROR "GoogleTest not found: apt-get install libgtest-dev, or configure with -DSAGEGEN_BUILD_TESTS=OFF")
  endif()
  include(GoogleTest)
endif()

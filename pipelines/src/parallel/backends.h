// The two c10d backends, each in its own file because each needs headers the other does not
// (gloo's for ProcessGroupGloo.hpp, nccl.h for ProcessGroupNCCL.hpp). A build without those
// headers compiles a stub that throws, naming what is missing.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>

namespace sagegen::parallel::detail {

// `bind_address`: the address this rank's Gloo device listens on ("" for the host's default).
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank, int size,
                                                    std::chrono::milliseconds timeout,
                                                    const std::string& bind_address);

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank, int size,
                                                    std::chrono::milliseconds timeout);

}  // namespace sagegen::parallel::detail

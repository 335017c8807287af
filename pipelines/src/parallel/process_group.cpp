#include "sagegen/parallel/process_group.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "backends.h"

namespace sagegen::parallel {
namespace {

// The integer in environment variable `name`, or nullopt when unset; a value that is not a
// whole number in [low, high] throws naming the variable.
std::optional<long> integer_env(const char* name, long low, long high) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno != 0 || value < low || value > high) {
    throw std::invalid_argument(fmt::format("environment variable {}='{}': expected a whole "
                                            "number in [{}, {}]", name, text, low, high));
  }
  return value;
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

using Clock = std::chrono::steady_clock;

}  // namespace

std::optional<LaunchEnvironment> launch_environment_from_env() {
  const auto world = integer_env("WORLD_SIZE", 1, 1 << 20);
  if (!world) return std::nullopt;
  LaunchEnvironment env;
  env.world_size = static_cast<int>(*world);
  const auto rank = integer_env("RANK", 0, env.world_size - 1);
  if (!rank) {
    throw std::invalid_argument(
        fmt::format("WORLD_SIZE={} is set but RANK is not: a launcher (sagegen --gpus N, "
                    "torchrun) sets both", env.world_size));
  }
  env.rank = static_cast<int>(*rank);
  env.local_rank = static_cast<int>(
      integer_env("LOCAL_RANK", 0, std::numeric_limits<int>::max()).value_or(env.rank));
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr) {
    env.master_addr = addr;
  }
  env.master_port = static_cast<int>(integer_env("MASTER_PORT", 1, 65535).value_or(29500));
  return env;
}

std::chrono::milliseconds collective_timeout_from_env() {
  const auto seconds = integer_env("SAGEGEN_DIST_TIMEOUT_S", 1, 7 * 24 * 3600);
  return std::chrono::seconds(seconds.value_or(600));
}

bool has_gloo() { return SAGEGEN_WITH_GLOO != 0; }
bool has_nccl() { return SAGEGEN_WITH_NCCL != 0; }

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  std::string backend_name;
  std::string bind_address;  // Gloo's listening address, for subgroups too
  c10::Device device{at::kCPU};
  std::chrono::milliseconds timeout{0};
  int rank = 0;
  int size = 1;
  bool timing = false;
  double seconds = 0;
  std::int64_t bytes = 0;

  void synchronize() const {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  }

  // Gloo's work blocks this thread until done (its own timeout applies); NCCL's makes the current
  // stream wait without blocking the host, and its watchdog enforces the timeout.
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* operation) const {
    try {
      if (device.is_cuda()) {
        work->wait();
      } else {
        work->wait(timeout);
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format(
          "rank {} of {}: {} failed ({} backend; a rank died, or one did not answer within {} "
          "s): {}", rank, size, operation, backend_name, timeout.count() / 1000,
          std::string(e.what()).substr(0, std::string(e.what()).find('\n'))));
    }
  }
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const LaunchEnvironment& env,
                                                    c10::Device device,
                                                    std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->rank = env.rank;
  impl->size = env.world_size;
  impl->device = device;
  impl->timeout = timeout;
  impl->backend_name = device.is_cuda() ? "nccl" : "gloo";

  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0;
  store_options.numWorkers = env.world_size;
  store_options.waitWorkers = true;  // the server returns once every rank connected
  store_options.timeout = timeout;
  const auto started = Clock::now();
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    impl->bind_address = is_loopback(env.master_addr) ? env.master_addr : "";
    impl->backend = device.is_cuda()
                        ? detail::make_nccl_backend(impl->store, env.rank, env.world_size, timeout)
                        : detail::make_gloo_backend(impl->store, env.rank, env.world_size,
                                                    timeout, impl->bind_address);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(fmt::format(
        "rank {} of {}: could not join the process group at {}:{} ({} backend) within {} s: {}",
        env.rank, env.world_size, env.master_addr, env.master_port, impl->backend_name,
        timeout.count() / 1000, what.substr(0, what.find('\n'))));
  }
  spdlog::info("rank {} of {}: joined the {} process group at {}:{} in {:.2f} s", env.rank,
               env.world_size, impl->backend_name, env.master_addr, env.master_port,
               std::chrono::duration<double>(Clock::now() - started).count());
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

std::shared_ptr<ProcessGroup> ProcessGroup::subgroup(const std::vector<int>& members,
                                                     const std::string& name) {
  const auto me = std::find(members.begin(), members.end(), impl_->rank);
  TORCH_CHECK(me != members.end() && std::is_sorted(members.begin(), members.end()) &&
                  std::adjacent_find(members.begin(), members.end()) == members.end() &&
                  members.front() >= 0 && members.back() < impl_->size,
              "ProcessGroup::subgroup '", name, "': rank ", impl_->rank, " of ", impl_->size,
              " must be among the members, which must be distinct ranks in ascending order");
  auto impl = std::make_unique<Impl>();
  impl->rank = static_cast<int>(me - members.begin());
  impl->size = static_cast<int>(members.size());
  impl->device = impl_->device;
  impl->timeout = impl_->timeout;
  impl->backend_name = impl_->backend_name;
  impl->bind_address = impl_->bind_address;
  // The prefix keeps the new backend's rendezvous keys apart from every other group's.
  impl->store = c10::make_intrusive<c10d::PrefixStore>(name + "/", impl_->store);
  try {
    impl->backend = impl->device.is_cuda()
                        ? detail::make_nccl_backend(impl->store, impl->rank, impl->size,
                                                    impl->timeout)
                        : detail::make_gloo_backend(impl->store, impl->rank, impl->size,
                                                    impl->timeout, impl->bind_address);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error(fmt::format(
        "rank {} of {}: could not form the subgroup '{}' ({} backend) within {} s: {}",
        impl_->rank, impl_->size, name, impl_->backend_name, impl_->timeout.count() / 1000,
        what.substr(0, what.find('\n'))));
  }
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const { return impl_->rank; }
int ProcessGroup::size() const { return impl_->size; }
const std::string& ProcessGroup::backend_name() const { return impl_->backend_name; }

at::Tensor ProcessGroup::all_to_all(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 1 && input.size(0) % impl_->size == 0, "all_to_all: dim 0 of ",
              input.sizes(), " must be a multiple of the group size ", impl_->size);
  at::Tensor send = input.contiguous();
  at::Tensor received = at::empty_like(send);
  std::vector<std::int64_t> equal_splits;  // empty: equal chunks along dim 0
  const auto started = Clock::now();
  if (impl_->timing) impl_->synchronize();
  impl_->wait(impl_->backend->alltoall_base(received, send, equal_splits, equal_splits),
              "all_to_all");
  if (impl_->timing) {
    impl_->synchronize();
    impl_->seconds += std::chrono::duration<double>(Clock::now() - started).count();
  }
  impl_->bytes += send.numel() * send.element_size() / impl_->size * (impl_->size - 1);
  return received;
}

at::Tensor ProcessGroup::all_gather(const at::Tensor& input) {
  std::vector<at::Tensor> inputs{input.contiguous()};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < impl_->size; ++r) outputs[0].push_back(at::empty_like(inputs[0]));
  const auto started = Clock::now();
  if (impl_->timing) impl_->synchronize();
  impl_->wait(impl_->backend->allgather(outputs, inputs), "all_gather");
  if (impl_->timing) {
    impl_->synchronize();
    impl_->seconds += std::chrono::duration<double>(Clock::now() - started).count();
  }
  impl_->bytes += inputs[0].numel() * inputs[0].element_size() * (impl_->size - 1);
  return at::cat(outputs[0], 0);
}

void ProcessGroup::barrier() {
  // A one-element all-gather rather than c10d's barrier: NCCL's barrier guesses a device from the
  // rank, which is wrong when each process sees only its own GPU as cuda:0.
  all_gather(at::zeros({1}, at::TensorOptions().device(impl_->device)));
}

void ProcessGroup::set_timing(bool enabled) { impl_->timing = enabled; }
double ProcessGroup::communication_seconds() const { return impl_->seconds; }
std::int64_t ProcessGroup::communication_bytes() const { return impl_->bytes; }
void ProcessGroup::reset_counters() {
  impl_->seconds = 0;
  impl_->bytes = 0;
}

}  // namespace sagegen::parallel

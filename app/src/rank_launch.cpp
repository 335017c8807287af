#include "rank_launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "sagegen/parallel/cfg_parallel.h"
#include "usage_error.h"

extern char** environ;

namespace sagegen::cli {
namespace {

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  const bool ok = fd >= 0 &&
                  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("--gpus: could not find a free local TCP port");
  return ntohs(address.sin_port);
}

}  // namespace

std::optional<int> take_gpus_flag(std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string value;
    std::size_t erase = 0;
    if (args[i] == "--gpus") {
      if (i + 1 >= args.size()) throw UsageError("--gpus: needs a number of processes");
      value = args[i + 1];
      erase = 2;
    } else if (args[i].rfind("--gpus=", 0) == 0) {
      value = args[i].substr(7);
      erase = 1;
    } else {
      continue;
    }
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < 1 || n > 1024) {
      throw UsageError("--gpus: expected a whole number of processes >= 1, got '" + value + "'");
    }
    args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i + erase));
    return static_cast<int>(n);
  }
  return std::nullopt;
}

void narrow_visible_gpus_for_rank() {
  const auto env = parallel::launch_environment_from_env();
  if (!env) return;
  std::vector<std::string> visible;
  if (const char* list = std::getenv("CUDA_VISIBLE_DEVICES"); list != nullptr && *list) {
    std::stringstream stream(list);
    for (std::string item; std::getline(stream, item, ',');) visible.push_back(item);
    if (visible.size() == 1) return;  // the launcher already gave this rank its GPU
  }
  const std::string mine = visible.empty() ? std::to_string(env->local_rank)
                           : env->local_rank < static_cast<int>(visible.size())
                               ? visible[env->local_rank]
                               : "";
  if (mine.empty()) {
    throw UsageError(fmt::format("LOCAL_RANK={} but CUDA_VISIBLE_DEVICES lists only {} GPUs",
                                 env->local_rank, visible.size()));
  }
  ::setenv("CUDA_VISIBLE_DEVICES", mine.c_str(), 1);
}

namespace {

// SAGEGEN_CFG_PARALLEL is read when the pipeline forms its groups; a bad value is a usage error
// before any rank starts or joins, not a failure after the model loaded.
void check_cfg_parallel_env() {
  try {
    parallel::cfg_parallel_mode_from_env();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace

std::shared_ptr<parallel::ProcessGroup> join_process_group(const LoadOptions& load) {
  const auto env = parallel::launch_environment_from_env();
  if (!env || env->world_size == 1) return nullptr;
  check_cfg_parallel_env();
  const bool cuda = load.device == DeviceChoice::kCuda ||
                    (load.device == DeviceChoice::kAuto && at::hasCUDA());
  return parallel::ProcessGroup::connect(*env, cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU),
                                         parallel::collective_timeout_from_env());
}

int launch_ranks(int ranks, const std::vector<std::string>& args) {
  if (parallel::launch_environment_from_env()) {
    throw UsageError("--gpus: WORLD_SIZE is already set (started by a launcher); drop --gpus");
  }
  check_cfg_parallel_env();
  const std::string self = "/proc/self/exe";
  const int port = free_local_port();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < ranks; ++rank) {
    const std::map<std::string, std::string> launcher_env{
        {"RANK", std::to_string(rank)},
        {"LOCAL_RANK", std::to_string(rank)},
        {"WORLD_SIZE", std::to_string(ranks)},
        {"MASTER_ADDR", "127.0.0.1"},
        {"MASTER_PORT", std::to_string(port)},
        // NVLink multicast (NVLS) stays off: on shared hosts it can take GPUs out of service.
        {"NCCL_NVLS_ENABLE", "0"}};
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      if (launcher_env.count(entry.substr(0, entry.find('='))) == 0) env_strings.push_back(entry);
    }
    for (const auto& [key, value] : launcher_env) env_strings.push_back(key + "=" + value);
    std::vector<std::string> argv_strings{self};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    for (auto& s : argv_strings) argv.push_back(s.data());
    envp.push_back(nullptr);
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) {
      throw std::runtime_error("--gpus: could not start rank " + std::to_string(rank));
    }
    pids.push_back(pid);
  }
  spdlog::info("--gpus {}: started {} processes (master 127.0.0.1:{})", ranks, ranks, port);
  int result = 0, running = ranks;
  // When the ranks still running get SIGTERM: the first failure plus the grace; max(): never.
  auto stop_at = std::chrono::steady_clock::time_point::max();
  const auto grace = parallel::collective_timeout_from_env() + std::chrono::seconds(30);
  while (running > 0) {
    for (int rank = 0; rank < ranks; ++rank) {
      int status = 0;
      if (pids[rank] == 0 || ::waitpid(pids[rank], &status, WNOHANG) != pids[rank]) continue;
      pids[rank] = 0;
      --running;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (code != 0 && result == 0) {
        result = code;
        spdlog::error("--gpus: rank {} exited with code {}; the others stop at their next "
                      "collective", rank, code);
        stop_at = std::chrono::steady_clock::now() + grace;
      }
    }
    if (std::chrono::steady_clock::now() > stop_at) {
      for (const pid_t pid : pids) {
        if (pid != 0) ::kill(pid, SIGTERM);
      }
      stop_at = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return result;
}

}  // namespace sagegen::cli

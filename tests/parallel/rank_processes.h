// Starts N copies of a program as the ranks of one process group (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT set as a launcher sets them) and waits for them with a deadline, so a test that
// would hang fails instead.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sagegen::testing {

// A TCP port nothing listens on right now (the kernel's pick for port 0).
inline int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("free_local_port: no socket");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

struct RankResult {
  int exit_code = -1;  // -1: still running at the deadline (then killed)
  std::string stderr_text;
};

struct RanksRun {
  std::vector<RankResult> ranks;
  double seconds = 0;
};

// `log_prefix`: rank r's stderr goes to log_prefix + r and is read back into its result. Once a
// rank exits with an error the others get until `grace` to exit themselves, then are killed
// (exit_code -1), as a launcher does.
inline RanksRun run_ranks(const std::string& program, const std::vector<std::string>& args,
                          int world, const std::map<std::string, std::string>& extra_env,
                          const std::string& log_prefix, std::chrono::seconds deadline,
                          std::chrono::seconds grace = std::chrono::seconds(30)) {
  const int port = free_local_port();
  std::vector<pid_t> pids;
  const auto started = std::chrono::steady_clock::now();
  for (int rank = 0; rank < world; ++rank) {
    std::map<std::string, std::string> env_map;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      env_map[entry.substr(0, entry.find('='))] = entry.substr(entry.find('=') + 1);
    }
    env_map["RANK"] = std::to_string(rank);
    env_map["WORLD_SIZE"] = std::to_string(world);
    env_map["MASTER_ADDR"] = "127.0.0.1";
    env_map["MASTER_PORT"] = std::to_string(port);
    for (const auto& [key, value] : extra_env) env_map[key] = value;
    std::vector<std::string> env_strings, argv_strings{program};
    for (const auto& [key, value] : env_map) env_strings.push_back(key + "=" + value);
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    for (auto& s : argv_strings) argv.push_back(s.data());
    envp.push_back(nullptr);
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = log_prefix + std::to_string(rank);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) throw std::runtime_error("run_ranks: cannot start " + program);
    pids.push_back(pid);
  }
  RanksRun run;
  run.ranks.resize(world);
  int running = world;
  auto stop_at = started + deadline;
  while (running > 0 && std::chrono::steady_clock::now() < stop_at) {
    for (int rank = 0; rank < world; ++rank) {
      if (pids[rank] == 0) continue;
      int status = 0;
      if (::waitpid(pids[rank], &status, WNOHANG) == pids[rank]) {
        run.ranks[rank].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pids[rank] = 0;
        --running;
        if (run.ranks[rank].exit_code != 0) {
          stop_at = std::min(stop_at, std::chrono::steady_clock::now() + grace);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (int rank = 0; rank < world; ++rank) {
    if (pids[rank] != 0) {
      ::kill(pids[rank], SIGKILL);
      ::waitpid(pids[rank], nullptr, 0);
    }
    std::ifstream log(log_prefix + std::to_string(rank));
    std::stringstream text;
    text << log.rdbuf();
    run.ranks[rank].stderr_text = text.str();
  }
  return run;
}

}  // namespace sagegen::testing

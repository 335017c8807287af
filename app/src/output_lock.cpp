#include "output_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "usage_error.h"

namespace sagegen::cli {
namespace fs = std::filesystem;

namespace {

fs::path directory_of(const OutputPaths& paths) {
  const fs::path dir = paths.media.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

// The pid written in a lock file, or 0 when it cannot be read.
long lock_holder(const fs::path& lock) {
  std::ifstream in(lock);
  long pid = 0;
  in >> pid;
  return pid;
}

bool process_alive(long pid) {
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

void check_output_writable(const OutputPaths& paths, const std::string& where) {
  std::error_code ec;
  if (fs::is_directory(paths.media, ec)) {
    throw UsageError(where + ": '" + paths.media.string() + "' is a directory");
  }
  // The nearest part of the directory that exists must be a directory we may write in.
  fs::path existing = directory_of(paths);
  while (!fs::exists(existing, ec)) {
    if (!existing.has_parent_path() || existing.parent_path() == existing) {
      existing = ".";  // a relative path none of whose parts exist yet
      break;
    }
    existing = existing.parent_path();
  }
  if (fs::exists(existing, ec) && !fs::is_directory(existing, ec)) {
    throw UsageError(where + ": cannot create directory '" + directory_of(paths).string() +
                     "': '" + existing.string() + "' is a file");
  }
  if (access(existing.c_str(), W_OK | X_OK) != 0) {
    throw UsageError(where + ": directory '" + existing.string() + "' is not writable (" +
                     std::strerror(errno) + ")");
  }
}

OutputLock::OutputLock(const OutputPaths& paths, const std::string& where)
    : path_(paths.sidecar.string() + ".lock") {
  check_output_writable(paths, where);
  std::error_code ec;
  fs::create_directories(directory_of(paths), ec);
  if (ec) {
    throw UsageError(where + ": cannot create directory '" + directory_of(paths).string() +
                     "': " + ec.message());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(path_.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      const std::string pid = std::to_string(getpid()) + "\n";
      const bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      close(fd);
      if (written) return;
      fs::remove(path_, ec);
      break;
    }
    if (errno != EEXIST) break;
    const long holder = lock_holder(path_);
    if (process_alive(holder)) {
      throw UsageError(where + ": another sagegen run (pid " + std::to_string(holder) +
                       ") is writing '" + paths.media.string() + "' (lock file '" +
                       path_.string() + "'); choose another output or wait for it");
    }
    fs::remove(path_, ec);  // left by a run that was killed
  }
  throw UsageError(where + ": cannot create the lock file '" + path_.string() + "': " +
                   std::strerror(errno));
}

OutputLock::~OutputLock() {
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace sagegen::cli

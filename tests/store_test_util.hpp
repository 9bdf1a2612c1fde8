#pragma once
// Helpers of the store tests: a temporary directory, whole-file reads, and running the helper
// program tests/store_helper.cpp (a child process that writes amari files, to be killed or starved).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace amari::test {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "amari-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
    for (auto& e : std::filesystem::recursive_directory_iterator(path, ec))
      if (e.is_directory(ec)) std::filesystem::permissions(e.path(), std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// A child process with its stdout on a pipe.
struct child {
  pid_t pid = -1;
  int out_fd = -1;
  std::string buffered;

  // Reads one line (without '\n'); false at end of output.
  bool read_line(std::string& line) {
    while (true) {
      if (auto nl = buffered.find('\n'); nl != std::string::npos) {
        line = buffered.substr(0, nl);
        buffered.erase(0, nl + 1);
        return true;
      }
      char buf[4096];
      ssize_t n = ::read(out_fd, buf, sizeof buf);
      if (n <= 0) {
        if (buffered.empty()) return false;
        line = std::move(buffered);
        buffered.clear();
        return true;
      }
      buffered.append(buf, static_cast<std::size_t>(n));
    }
  }
  // Waits for the child; returns its wait status.
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (out_fd >= 0) ::close(out_fd);
    out_fd = -1;
    return status;
  }
};

inline child spawn(const std::string& program, const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  child c;
  int rc = ::posix_spawn(&c.pid, program.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + program);
  }
  c.out_fd = fds[0];
  return c;
}

struct helper_result {
  std::string out;
  int status = 0;
};

// Runs tests/store_helper with the given arguments to its end; returns its stdout and wait status.
inline helper_result run_helper(const std::vector<std::string>& args) {
  child c = spawn(AMARI_STORE_HELPER_PATH, args);
  helper_result r;
  std::string line;
  while (c.read_line(line)) r.out += line + "\n";
  r.status = c.wait();
  return r;
}

// Runs a shell command, returning its exit status and combined output.
inline helper_result run_shell(const std::string& command) {
  helper_result r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

}  // namespace amari::test

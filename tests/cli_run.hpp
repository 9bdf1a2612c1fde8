#pragma once
// Running the `amari` binary (AMARI_CLI_PATH) from the CLI tests: in a working directory of the
// test's own, with stdout and stderr captured separately, and the exit code.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace amari::test {

struct cli_result {
  int status = -1;  // exit code; -1 if killed by a signal
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh empty directory under the system's temp directory, removed with its contents at the end.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "amari-cli-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  // Every entry (name and size) of the directory, to see that a refused run created nothing.
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path))
      names.insert(e.path().filename().string() + ":" +
                   (e.is_regular_file() ? std::to_string(e.file_size()) : std::string("dir")));
    return names;
  }
};

// Runs `amari <args>` (args as a shell would read them) with `cwd` as working directory; stdin is
// /dev/null, so nothing waits for input. stdout and stderr go through files named after the
// process and the call: tests that ctest -j runs at once may share a working directory.
inline cli_result run_amari(const std::string& args, const std::filesystem::path& cwd) {
  static int calls = 0;
  std::string tag = std::to_string(::getpid());  // (appended piecewise: g++ 12 misreads "." + s, -Wrestrict)
  tag += '.';
  tag += std::to_string(++calls);
  const std::filesystem::path out = cwd / (std::string(".stdout.").append(tag)),
                              err = cwd / (std::string(".stderr.").append(tag));
  const std::string cmd = "cd '" + cwd.string() + "' && '" + std::string(AMARI_CLI_PATH) + "' " + args +
                          " < /dev/null > '" + out.filename().string() + "' 2> '" + err.filename().string() + "'";
  const int raw = std::system(cmd.c_str());
  cli_result r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace amari::test

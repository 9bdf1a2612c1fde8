#include "checks.hpp"
#include "command.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "amari/core/error.hpp"
#include "amari/io/store.hpp"

namespace amari::cli {

void require_writable(const std::string& path, bool force, const std::string& field) {
  if (path.empty()) throw InvalidArgument(field, "\"\"", "must be the path of the HDF5 file to write");
  try {
    store::file::check_writable(path, force);
  } catch (const IoError& e) {
    // The store's message is "<path>: <what is wrong>": keep the reason, name the option.
    std::string why = e.what();
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    throw InvalidArgument(field, path, why);
  }
}

void require_readable(const std::string& field, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InvalidArgument(field, path, std::string("cannot be read: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InvalidArgument(field, path, "is a directory, not a file");
  if (::access(path.c_str(), R_OK) != 0)
    throw InvalidArgument(field, path, std::string("cannot be read: ") + std::strerror(errno));
}

std::vector<std::size_t> table_rows(std::size_t n) {
  static constexpr std::size_t mantissa[] = {1, 2, 5};
  std::size_t stride = 1;
  for (std::size_t k = 1; n > 25 * stride; ++k) {  // stride = 2, 5, 10, 20, 50, 100, ...
    std::size_t decade = 1;
    for (std::size_t e = 0; e < k / 3; ++e) decade *= 10;
    stride = mantissa[k % 3] * decade;
  }
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < n; i += stride) rows.push_back(i);
  if (n > 0 && rows.back() != n - 1) rows.push_back(n - 1);
  return rows;
}

store::file create_output(const invocation& inv, const std::string& product, const std::string& path, bool force,
                          std::optional<std::int64_t> seed) {
  store::file_options o{.force = force, .command_line = inv.command_line, .config_toml = inv.options.resolved_toml(),
                        .product = product};
  if (seed) o.seed = static_cast<std::uint64_t>(*seed);
  return store::file::create(path, o);
}

}  // namespace amari::cli

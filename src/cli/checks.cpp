#include "checks.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include "amari/error.hpp"
#include "amari/store.hpp"

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

}  // namespace amari::cli

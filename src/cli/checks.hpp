#pragma once
// Checks of the files a command reads and writes, made before any work starts. A file that cannot
// be read or written is a usage error like a bad number: one line naming the option, the path and
// what is wrong, exit code 2 (InvalidArgument). The store's own checks (IoError) do the testing.
#include <cstddef>
#include <string>
#include <vector>

namespace amari::cli {

// The output file can be created (its directory exists and is writable; it does not exist, or
// `force` and it is a regular file that no process holds). Throws InvalidArgument("output", ...).
void require_writable(const std::string& path, bool force, const std::string& field = "output");

// The input file exists, is a regular file and can be read. Throws InvalidArgument(field, path, ...).
void require_readable(const std::string& field, const std::string& path);

// Rows of a printed table of n samples: every stride-th, the stride the least of 1, 2, 5, 10, 20,
// 50, ... that leaves at most about 25 rows, and the last row.
std::vector<std::size_t> table_rows(std::size_t n);

}  // namespace amari::cli

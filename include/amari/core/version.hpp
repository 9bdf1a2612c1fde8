#pragma once
// amari's version and the git description of the source it was built from.
#include <string_view>

namespace amari {
std::string_view version() noexcept;       // "MAJOR.MINOR.PATCH"
std::string_view git_describe() noexcept;  // `git describe --always --dirty --tags` at configure time
}  // namespace amari

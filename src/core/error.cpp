#include "amari/core/error.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace amari {

InvalidArgument::InvalidArgument(std::string_view field, std::string_view value,
                                 std::string_view accepted)
    : Error(fmt::format("{} = {}: {}", field, value, accepted)), field_(field) {}

InvalidArgument::InvalidArgument(const std::string& message) : Error(message) {}

std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  (void)ec;
  return std::string(buf, end);
}

void require_finite(std::string_view field, double x) {
  if (!std::isfinite(x)) throw InvalidArgument(field, format_number(x), "must be a finite number");
}

void require_nonnegative(std::string_view field, double x) {
  if (!std::isfinite(x) || x < 0)
    throw InvalidArgument(field, format_number(x), "must be a finite number >= 0");
}

void require_positive(std::string_view field, double x) {
  if (!std::isfinite(x) || x <= 0)
    throw InvalidArgument(field, format_number(x), "must be a finite number > 0");
}

void require_in_range(std::string_view field, double x, double lo, double hi) {
  if (!std::isfinite(x) || x < lo || x > hi)
    throw InvalidArgument(field, format_number(x),
                          fmt::format("must be a finite number in [{}, {}]", format_number(lo),
                                      format_number(hi)));
}

}  // namespace amari

namespace amari {

void require_int_range(std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi) {
  if (v < lo || v > hi)
    throw InvalidArgument(field, std::to_string(v), fmt::format("must be an integer in [{}, {}]", lo, hi));
}

}  // namespace amari

// Lines of product summaries (include/amari/io/summary.hpp).
#include "amari/io/summary.hpp"

#include <cmath>
#include <fmt/format.h>

namespace amari::io {

summary_entry entry_value(std::string key, double v, std::string units, std::string description, std::optional<double> sem,
                    std::string text) {
  summary_entry e;
  e.key = std::move(key);
  e.number = v;
  e.sem = sem;
  e.units = std::move(units);
  e.description = std::move(description);
  e.text = std::move(text);
  return e;
}

summary_entry entry_words(std::string key, std::string text, std::string description) {
  summary_entry e;
  e.key = std::move(key);
  e.text = std::move(text);
  e.description = std::move(description);
  return e;
}

std::string short_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", x);
}

}  // namespace amari::io

#pragma once
// One line of a product's summary in `amari inspect` (io/inspect.hpp): a number (NaN when
// undefined) with its units and standard error, or a text. Each product's layout module
// (io/layout/<product>.hpp) says what its summary holds, from its own reader.
#include <optional>
#include <string>
#include <vector>

namespace amari::io {

struct summary_entry {
  std::string key;               // "t final", "final q", "lambda_max", "phase counts", ...
  std::optional<double> number;  // when the entry is a number
  std::optional<double> sem;     // its standard error, when it is an estimate (printed "x +- sem")
  std::string text;              // otherwise (or extra words)
  std::string units;
  std::string description;      // of the dataset it comes from, when there is one
};

// A number, and a text.
summary_entry entry_value(std::string key, double v, std::string units = "", std::string description = "",
                    std::optional<double> sem = std::nullopt, std::string text = "");
summary_entry entry_words(std::string key, std::string text, std::string description = "");
// The shortest text of x with at most 6 significant digits ("0.1", "2.5e-07").
std::string short_number(double x);

}  // namespace amari::io

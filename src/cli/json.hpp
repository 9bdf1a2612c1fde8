#pragma once
// JSON output of the commands: a product's record (amari/io/record.hpp) as one JSON object, with
// NaN and infinities as null.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "amari/io/record.hpp"

namespace amari::cli {

inline nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

inline nlohmann::json to_json(const io::value& v);

inline nlohmann::json to_json(const io::record& r) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < r.size(); ++i) j[r.keys[i]] = to_json(r.values[i]);
  return j;
}

inline nlohmann::json to_json(const io::value& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, double>) {
          return number(x);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          nlohmann::json a = nlohmann::json::array();
          for (double e : x) a.push_back(number(e));
          return a;
        } else if constexpr (std::is_same_v<T, io::value::array>) {
          nlohmann::json a = nlohmann::json::array();
          for (const auto& e : x) a.push_back(to_json(e));
          return a;
        } else if constexpr (std::is_same_v<T, io::record>) {
          return to_json(x);
        } else {
          return nlohmann::json(x);
        }
      },
      v.v);
}

// Prints the record as one line of JSON on stdout.
inline void print_json(const io::record& r) { std::printf("%s\n", to_json(r).dump().c_str()); }

}  // namespace amari::cli

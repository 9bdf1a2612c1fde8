#pragma once
// JSON output of the commands: NaN and infinities print as null, and a command's parameters are
// echoed from its table (the vocabulary's names are the keys).
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "amari/core/params.hpp"

namespace amari::cli {

inline nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
inline nlohmann::json number(const std::optional<double>& x) { return x ? number(*x) : nlohmann::json(nullptr); }
inline nlohmann::json numbers(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}

inline nlohmann::json to_json(const param_value& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, double>) return number(x);
        else if constexpr (std::is_same_v<T, std::vector<double>>) return numbers(x);
        else return nlohmann::json(x);
      },
      v);
}

// The parameters of role `model` (what the result depends on), as "name": value.
template <class P>
nlohmann::json params_json(const param_table<P>& t, const P& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& e : t.entries())
    if (e.spec->role == param_role::model) j[std::string(e.spec->name)] = to_json(e.get(p));
  return j;
}

}  // namespace amari::cli

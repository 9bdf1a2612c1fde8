// Parameters as group attributes (include/amari/io/params.hpp).
#include "amari/io/params.hpp"

#include <string>

namespace amari::io {

void write_param(store::group& g, const param_spec& spec, const param_value& v) {
  const std::string name(spec.name);
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) g.attr(name, static_cast<std::int64_t>(x ? 1 : 0));
        else if constexpr (std::is_same_v<T, std::vector<double>>) g.attr(name, std::span<const double>(x));
        else g.attr(name, x);
      },
      v);
}

std::optional<param_value> read_param(const store::group& g, const param_spec& spec) {
  const std::string name(spec.name);
  if (!g.has_attr(name)) return std::nullopt;
  switch (spec.kind) {
    case param_kind::real: return g.attr_double(name);
    case param_kind::integer: return g.attr_int(name);
    case param_kind::flag: return g.attr_int(name) != 0;
    case param_kind::text:
    case param_kind::axis: return g.attr_string(name);
    case param_kind::reals: return g.attr_doubles(name);
  }
  return std::nullopt;
}

}  // namespace amari::io

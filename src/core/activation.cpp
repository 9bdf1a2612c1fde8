#include "amari/core/activation.hpp"

#include <charconv>
#include <fmt/format.h>

#include "amari/core/error.hpp"

namespace amari {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string_view Activation::accepted_forms() {
  return "accepted: tanh, tanh:g=<gain > 0>, erf, relu, linear, hardtanh";
}

Activation Activation::parse(std::string_view spec, std::string_view field) {
  const std::string shown = fmt::format("'{}'", spec);
  const std::string_view s = trim(spec);
  const auto colon = s.find(':');
  const std::string_view name = trim(s.substr(0, colon));
  const std::string_view params = colon == std::string_view::npos ? "" : s.substr(colon + 1);

  auto no_params = [&](auto policy) -> Activation {
    if (!trim(params).empty())
      throw InvalidArgument(field, shown,
                            fmt::format("'{}' takes no parameters; {}", name, accepted_forms()));
    return Activation(policy);
  };

  if (name == "tanh") {
    tanh_phi p;
    if (colon != std::string_view::npos) {
      const std::string_view kv = trim(params);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos || trim(kv.substr(0, eq)) != "g")
        throw InvalidArgument(field, shown,
                              fmt::format("tanh takes one parameter, the gain g; {}", accepted_forms()));
      double g = 0;
      if (!parse_double(kv.substr(eq + 1), g) || !std::isfinite(g) || g <= 0)
        throw InvalidArgument(field, shown,
                              fmt::format("the gain g must be a finite number > 0; {}", accepted_forms()));
      p.g = g;
    }
    return Activation(p);
  }
  if (name == "erf") return no_params(erf_phi{});
  if (name == "relu") return no_params(relu_phi{});
  if (name == "linear") return no_params(linear_phi{});
  if (name == "hardtanh") return no_params(hardtanh_phi{});
  throw InvalidArgument(field, shown, fmt::format("unknown activation; {}", accepted_forms()));
}

std::string Activation::spec() const {
  return visit([](const auto& p) -> std::string {
    using P = std::decay_t<decltype(p)>;
    if constexpr (std::is_same_v<P, tanh_phi>) {
      if (p.g != 1.0) return fmt::format("tanh:g={}", format_number(p.g));
    }
    return std::string(P::name);
  });
}

double Activation::phi(double h) const {
  return visit([h](const auto& p) { return double(p.phi(h)); });
}
double Activation::dphi(double h) const {
  return visit([h](const auto& p) { return double(p.dphi(h)); });
}
double Activation::d2phi(double h) const {
  return visit([h](const auto& p) { return double(p.d2phi(h)); });
}
double Activation::Phi(double h) const {
  return visit([h](const auto& p) { return double(p.Phi(h)); });
}
double Activation::dphi0() const {
  return visit([](const auto& p) { return p.dphi0(); });
}
bool Activation::odd() const {
  return visit([](const auto& p) { return std::decay_t<decltype(p)>::odd; });
}
bool Activation::bounded() const {
  return visit([](const auto& p) { return std::decay_t<decltype(p)>::bounded; });
}
bool Activation::smooth() const {
  return visit([](const auto& p) { return p.kinks().empty(); });
}

}  // namespace amari

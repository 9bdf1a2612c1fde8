// The /finite group (include/amari/io/layout/finite.hpp).
#include "amari/io/layout/finite.hpp"

#include <cmath>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::finite {

namespace {

using R = finite_result;

// Units: h^2 for K, G1 and K12 (n times a shift of h^2), h^4 for V and the covariances of the q's.
const array_field layer_arrays[] = {
    {"K", "the leading kernel (length map) K^l of input 1", "h^2", &R::K},
    {"V", "the four-point vertex: n Var(G^l) over networks, G^l the conditional variance of h^l_i", "h^4", &R::V},
    {"G1", "the NLO mean shift: n (E G^l - K^l)", "h^2", &R::G1},
    {"chi_par", "the parallel susceptibility sigma_w^2 d<phi^2>_K/dK at K^l (not chi_1; NaN at the last layer)", "",
     &R::chi_par},
    {"var_q", "n Var(q^l) over networks, q^l = |h^l|^2 / n: 2 K^2 + V", "h^4", &R::var_q},
    {"kurtosis", "n times the excess kurtosis of h^l_i: 3 V / K^2", "", &R::kurtosis},
    {"mean_shift", "n (E q^l - K^l): G1", "h^2", &R::mean_shift},
    {"K12", "the leading covariance of the two inputs' h^l", "h^2", &R::K12},
    {"c", "the correlation map c^l = K12 / K", "", &R::c},
    {"G1_12", "n (E G^l_12 - K12^l)", "h^2", &R::G1_12},
    {"V_11_12", "n Cov(G^l_11, G^l_12)", "h^4", &R::V_11_12},
    {"V_11_22", "n Cov(G^l_11, G^l_22)", "h^4", &R::V_11_22},
    {"V_12_12", "n Var(G^l_12)", "h^4", &R::V_12_12},
    {"cov_q11_q12", "n Cov(q^l_11, q^l_12) over networks", "h^4", &R::cov_q11_q12},
    {"cov_q11_q22", "n Cov(q^l_11, q^l_22) over networks", "h^4", &R::cov_q11_q22},
    {"var_q12", "n Var(q^l_12) over networks, q_12 = h_1 . h_2 / n", "h^4", &R::var_q12},
    {"c_shift", "n (E c^l - c^l of the map), c^l = h_1 . h_2 / (|h_1| |h_2|)", "", &R::c_shift},
    {"lambda_shift",
     "n (E lambda^l - (1/2) ln(sigma_w^2 <phi'^2>_{K^{l-1}})), lambda^l the per-layer growth of a perturbation "
     "(the finite-width chi_1; NaN at l = 0)",
     "1/layer", &R::lambda_shift},
};

// The correlation depth at finite width (scalars, attributes of /finite; NaN where not defined).
struct scalar_field {
  const char* name;
  const char* description;
  const char* units;
  double R::*member;
};
const scalar_field scalars[] = {
    {"c_star", "the correlation map's fixed point c* (NaN unless c* < 1: chaotic phase)", "", &R::c_star},
    {"chi_c", "sigma_w^2 <phi'(u1) phi'(u2)> at (q*, c*), the decay rate of c^l - c* per layer", "", &R::chi_c},
    {"xi_c", "the correlation depth scale -1 / ln chi_c (Schoenholz et al. 2017)", "layers", &R::xi_c},
    {"c_star_shift", "n (c*_n - c*): the 1/n shift of the limit of E c^l", "", &R::c_star_shift},
    {"chi_c_shift", "n (chi_c(n) - chi_c): the 1/n shift of the decay rate of E c^l", "", &R::chi_c_shift},
    {"xi_c_shift", "n (xi_c(n) - xi_c) = xi_c^2 chi_c_shift / chi_c", "layers", &R::xi_c_shift},
};

}  // namespace

std::span<const array_field> per_layer() { return layer_arrays; }

void write(store::file& f, const finite_params& p, const finite_result& r) {
  auto g = f.group_at(group);
  io::write_params(g, finite_params::table(), p);
  std::vector<std::int64_t> layer(r.layers + 1);
  for (std::int64_t l = 0; l <= r.layers; ++l) layer[l] = l;
  g.write_scale("layer", layer, {.description = "layer index l (0: the inputs)"});
  for (const auto& a : layer_arrays)
    g.write(a.name, r.*a.member, {.description = a.description, .units = a.units, .dims = {"layer"}});
  for (const auto& a : scalars) g.attr(a.name, r.*a.member);
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /finite", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params = io::read_params(g, finite_params::table());
  out.result.layers = out.params.layers;
  for (const auto& a : layer_arrays)  // (lambda_shift is absent from files written before it)
    if (g.has(a.name) || std::string(a.name) != "lambda_shift") out.result.*a.member = g.read_doubles(a.name);
  for (const auto& a : scalars)  // (absent from files written before the correlation depth)
    if (g.has_attr(a.name)) out.result.*a.member = g.attr_double(a.name);
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  const record rec = read(f);
  const finite_result& r = rec.result;
  std::vector<io::summary_entry> out;
  if (r.K.empty()) return out;
  const std::size_t l = r.K.size() - 1;
  const std::string at = fmt::format("at layer {} ({} inputs)", l, to_string(rec.params.inputs));
  out.push_back(io::entry_value("final K", r.K.at(l), "h^2", "the leading kernel", std::nullopt, at));
  out.push_back(io::entry_value("final var_q", r.var_q.at(l), "h^4", "n Var(q) over networks", std::nullopt, at));
  out.push_back(io::entry_value("final kurtosis", r.kurtosis.at(l), "", "n x excess kurtosis of h_i", std::nullopt, at));
  out.push_back(io::entry_value("final mean_shift", r.mean_shift.at(l), "h^2", "n (E q - K)", std::nullopt, at));
  out.push_back(io::entry_value("final c_shift", r.c_shift.at(l), "", "n (E c - c of the map)", std::nullopt, at));
  if (std::isfinite(r.xi_c)) {
    out.push_back(io::entry_value("xi_c", r.xi_c, "layers", "correlation depth -1 / ln chi_c", std::nullopt, "n = inf"));
    out.push_back(io::entry_value("xi_c_shift", r.xi_c_shift, "layers", "n (xi_c(n) - xi_c)", std::nullopt,
                                  "the 1/n correction"));
    out.push_back(io::entry_value("c_star_shift", r.c_star_shift, "", "n (c*_n - c*)", std::nullopt,
                                  "the 1/n correction"));
  }
  return out;
}

io::record to_record(const finite_params& p, const finite_result& r) {
  io::record j = io::params_record(finite_params::table(), p);
  std::vector<double> layer(static_cast<std::size_t>(r.layers + 1));
  for (std::int64_t l = 0; l <= r.layers; ++l) layer[static_cast<std::size_t>(l)] = double(l);
  j.add("layer", std::move(layer));
  for (const auto& a : per_layer()) j.add(a.name, r.*a.member);
  for (const auto& a : scalars) j.add(a.name, r.*a.member);
  return j;
}

}  // namespace amari::layout::finite

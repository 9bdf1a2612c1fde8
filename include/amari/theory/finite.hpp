#pragma once
// Finite-width (1/n) corrections to the mean-field maps of deep random networks (docs/finite_width.md).
//
// The network of amari/theory/maps.hpp and `amari deepnet`, at width n:
//
//   h^l = W^l phi(h^{l-1}) + b^l,   W_ij ~ N(0, Cw / n),  b_i ~ N(0, Cb),  Cw = sigma_w^2, Cb = sigma_b^2.
//
// Given layer l-1 the vectors (h^l_{i1}, h^l_{i2}) of two inputs are i.i.d. over i, centred normal
// with covariance G^l_ab = Cb + Cw (1/n) sum_j phi(h^{l-1}_{ja}) phi(h^{l-1}_{jb}). Over the networks,
// with x = (11, 12, 22) the three entries,
//
//   E G^l_x = K^l_x + G1^l_x / n + O(1/n^2),   Cov(G^l_x, G^l_y) = V^l_xy / n + O(1/n^2),
//
// and (Roberts, Yaida & Hanin 2022, ch. 4-5; Yaida 2020; the delta method, docs/finite_width.md)
//
//   K^{l+1}_x  = Cb + Cw <F_x>_K,               F_11 = phi(u1)^2, F_12 = phi(u1) phi(u2), F_22 = phi(u2)^2
//   V^{l+1}    = Cw^2 (<F_x F_y>_K - <F_x>_K <F_y>_K) + J V^l J^T,        J_xy = Cw d<F_x>_K / dK_y
//   G1^{l+1}_x = sum_y J_xy G1^l_y + (1/2) sum_yz Cw d^2<F_x>_K / dK_y dK_z  V^l_yz
//
// with <.>_K the Gaussian expectation at covariance K^l. For one input these are the recursions of
// the shared reference (chi_par = Cw d<phi^2>_K/dK, the parallel susceptibility -- not Poole's
// chi_1 = Cw <phi'^2>_K). The start (layer 0) depends on the inputs:
//   exact     the inputs have exactly the empirical q0, c0 (as `amari deepnet` builds them): the
//             Gram matrix q^0 is deterministic, so V^0 = -W(K^0), G1^0 = 0, where W is the Wick
//             covariance below (for one input V^0 = -2 q0^2);
//   gaussian  the input components are i.i.d. normal with variance q0 and correlation c0: V^0 = 0,
//             G1^0 = 0.
//
// Measurable at width n (n -> infinity limits), with q^l_ab = (1/n) sum_i h^l_ia h^l_ib:
//   n Cov(q_x, q_y) = W(K)_xy + V_xy,  W(K)_{ab,cd} = K_ac K_bd + K_ad K_bc;  var_q = 2 K^2 + V
//   kurtosis    = n (excess kurtosis of h^l_i1)  = 3 V / K^2
//   mean_shift  = n (E q^l_11 - K^l)             = G1
//   c_shift     = n (E c^l - c^l_map), c^l = q_12 / sqrt(q_11 q_22), by the delta method.
//
// Expectations: one-point ones by amari/core/gauss.hpp with the K-derivatives as moments of z
// (d<f>/dK = <f (z^2 - 1)> / 2K, d^2<f>/dK^2 = <f (z^4 - 6 z^2 + 3)> / 4K^2), good to ~1e-12;
// the two-point ones by the Gaussian's Hermite polynomials in w = K^{-1} u (d<f>/dK_ab as
// <f He_ab>, second derivatives as <f He_abcd>), whose relative error grows like
// 1e-12 / (1 - c^2)^2 as the correlation c of the layer approaches +-1: where 1 - |c| < 1e-4 the
// two-input derivatives are not computed and the two-input outputs are NaN from that layer on.
#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/params.hpp"

namespace amari {

inline constexpr double finite_nan = std::numeric_limits<double>::quiet_NaN();

// How the network's inputs are drawn (`amari finite` and `amari deepnet`: the vocabulary's `inputs`).
enum class input_kind {
  exact,     // exactly the empirical q0 and c0 (random directions with the given Gram matrix)
  gaussian,  // i.i.d. normal components of variance q0, correlation c0 between the two inputs
};
std::string_view to_string(input_kind k);
void parse_param(std::string_view text, std::string_view field, input_kind& out);
std::string param_text(input_kind k);

struct finite_params {
  model_params model = defaults::depth;  // phi, sigma_w, sigma_b (w0 = b0 = 0)
  double q0 = 1.0;                        // second moment of each input (units of h^2, > 0)
  double c0 = 0.5;                        // correlation of the two inputs (in [-1, 1])
  input_kind inputs = input_kind::exact;  // how the inputs are drawn (the start of the recursions)
  std::int64_t layers = 30;               // depth L (>= 1)

  void validate() const;
  static const param_table<finite_params>& table();  // the vocabulary of `amari finite`
};

// Per-layer arrays, layers + 1 entries (l = 0..L). The second input has the same q0, so its
// single-input quantities equal those of input 1.
struct finite_result {
  std::int64_t layers = 0;
  // input 1
  std::vector<double> K;           // the length map K^l
  std::vector<double> V;           // the four-point vertex: n Var(G^l)
  std::vector<double> G1;          // the NLO mean shift: n (E G^l - K^l)
  std::vector<double> chi_par;     // Cw d<phi^2>_K/dK at K^l (the slope of the length map; NaN at l = L)
  std::vector<double> var_q;       // n Var(q^l) = 2 K^2 + V
  std::vector<double> kurtosis;    // n x excess kurtosis of h^l_i = 3 V / K^2
  std::vector<double> mean_shift;  // n (E q^l - K^l) = G1
  // two inputs
  std::vector<double> K12;                     // the leading covariance of the inputs' h
  std::vector<double> c;                       // the correlation map c^l = K12 / K
  std::vector<double> G1_12;                   // n (E G_12 - K12)
  std::vector<double> V_11_12, V_11_22, V_12_12;  // n Cov(G_11, G_12), n Cov(G_11, G_22), n Var(G_12)
  std::vector<double> cov_q11_q12, cov_q11_q22, var_q12;  // n Cov of the measured q^l (W(K) + V)
  std::vector<double> c_shift;                 // n (E c^l - c^l_map)
  // The finite-width chi_1: n (E lambda^l - (1/2) ln(Cw <phi'^2>_{K^{l-1}})), lambda^l the per-layer
  // growth (1/2) ln(|v^l|^2 / |v^{l-1}|^2) of a perturbation (NaN at l = 0; docs/finite_width.md)
  std::vector<double> lambda_shift;
  // The correlation depth at finite width (finite_correlation_depth; NaN where it does not apply).
  double c_star = finite_nan, chi_c = finite_nan, xi_c = finite_nan;
  double c_star_shift = finite_nan, chi_c_shift = finite_nan, xi_c_shift = finite_nan;
};

finite_result run_finite(const finite_params& p);

// The correlation depth scale at finite width (docs/finite_width.md, "The correlation depth").
// At the maps' fixed point (q*, c*) with c* < 1 (the chaotic phase), E c^l approaches its
// finite-width limit c*_n = c* + c_star_shift / n like chi_c(n)^l, with
//   chi_c(n) = chi_c + chi_c_shift / n + O(1/n^2),   chi_c = Cw <phi'(u1) phi'(u2)>_{q*, c*},
//   xi_c(n)  = -1 / ln chi_c(n) = xi_c + xi_c_shift / n,   xi_c_shift = xi_c^2 chi_c_shift / chi_c
// (Schoenholz et al. 2017 for xi_c; the shift is the first-order perturbation of the eigenvalue
// chi_c of the linearised (K, V, G1) recursions, which appears in c_shift^l as a secular term
// l chi_c^l). Every field is NaN where there is no such fixed point (ordered or critical phase:
// c* = 1; 1 - |c*| < 1e-3; divergent or collapsed maps).
struct finite_depth_scale {
  double q_star = finite_nan, c_star = finite_nan;
  double chi_c = finite_nan, xi_c = finite_nan;
  double c_star_shift = finite_nan;  // n (c*_n - c*)
  double chi_c_shift = finite_nan;   // n (chi_c(n) - chi_c)
  double xi_c_shift = finite_nan;    // n (xi_c(n) - xi_c)
};
finite_depth_scale finite_correlation_depth(const model_params& model);

// The pieces of one layer, for tests: at covariance K (one input), <phi^2>, <phi^4>,
// d<phi^2>/dK and d^2<phi^2>/dK^2.
struct finite_moments {
  double phi2 = 0, phi4 = 0, d_phi2 = 0, d2_phi2 = 0;
};
finite_moments finite_one_point(const Activation& phi, double K);
// At covariance (K11, K12, K22), 1 - |c| >= 1e-4: <phi(u1) phi(u2)>, its derivatives with respect to
// x = (K11, K12, K22) (K12 one variable for both off-diagonal entries), and the moments of the vertex.
struct finite_pair_moments {
  double F12 = 0;                    // <phi1 phi2>
  std::array<double, 3> d{};         // d<phi1 phi2>/dx_y
  Eigen::Matrix3d d2;                // d^2<phi1 phi2>/dx_y dx_z
  double p31 = 0, p22 = 0, p13 = 0;  // <phi1^3 phi2>, <phi1^2 phi2^2>, <phi1 phi2^3>
};
finite_pair_moments finite_two_point(const Activation& phi, double K11, double K12, double K22);

}  // namespace amari

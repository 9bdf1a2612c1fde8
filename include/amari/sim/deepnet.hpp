#pragma once
// Finite-width random deep networks, measured beside the mean-field maps of amari/theory/maps.hpp.
//
//   h^l = W^l phi(h^{l-1}) + b^l,   l = 1..L,   W^l_ij ~ N(0, sigma_w^2 / N),  b^l_i ~ N(0, sigma_b^2),
//
// with fresh (W^l, b^l) at every layer, width N at every layer, or (`tied`) with the same (W, b) at
// every layer: h^l = W phi(h^{l-1}) + b, the discrete-time recurrent net. Two inputs h^0_1, h^0_2 are built
// with the chosen empirical statistics exactly (Gram-Schmidt on Gaussian vectors; `inputs = exact`,
// the default), or (`inputs = gaussian`) with i.i.d. normal components of variance q0 and
// correlation c0 between the inputs, so that q^0 and c^0 fluctuate:
//
//   q^0 = |h^0_a|^2 / N for a = 1, 2,    c^0 = h^0_1 . h^0_2 / (|h^0_1| |h^0_2|).
//
// Per layer and network the empirical q^l_a = |h^l_a|^2 / N and c^l = h^l_1 . h^l_2 / (|h^l_1| |h^l_2|)
// are recorded, and a tangent vector v^0 (a random unit vector at input 1) is carried by the
// Jacobian, v^l = W^l diag(phi'(h^{l-1}_1)) v^{l-1}: lambda^l = (1/2) ln(|v^l|^2 / |v^{l-1}|^2) is
// the measured growth of an infinitesimal perturbation in layer l, the counterpart of
// (1/2) ln chi_1 (Poole et al. 2016; Schoenholz et al. 2017). Beside them, the maps iterated from
// the same q^0, c^0:
//
//   q^l = V(q^{l-1}),   c^l = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q^l  with u1, u2 of
//   variance q^{l-1} and correlation c^{l-1},   lambda^l = (1/2) ln(sigma_w^2 E[phi'(u)^2]), u of
//   variance q^{l-1}.
//
// `sampling = conditional` draws the same networks' pre-activations without drawing W: given
// layer l-1, the rows of W^l X (X = [phi(h_1), phi(h_2), phi'(h_1) v], N x 3) are i.i.d.
// N(0, X^T X), because the rows of W^l are i.i.d. isotropic Gaussian vectors. With X = Q R (thin
// QR, Q^T Q = I) W^l X = (W^l Q) R and W^l Q has i.i.d. N(0, 1) entries, so W^l X is drawn as Z R
// with Z an N x 3 matrix of fresh normals: exact in distribution for every N (not an
// approximation), and 3N normals per layer instead of N^2. It needs fresh W^l at every layer, so
// tied nets refuse it.
//
// As N -> infinity each network follows the maps; at finite N the network-to-network spread is
// O(N^{-1/2}) and the bias O(1/N). Every network draws from its own random stream, derived from the
// seed and its index, so results are reproducible and do not depend on the number of threads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/control.hpp"
#include "amari/core/params.hpp"
#include "amari/theory/finite.hpp"
#include "amari/theory/maps.hpp"

namespace amari {

// How a network's layers are drawn: weights (every W^l, row by row) or conditional (each layer's
// pre-activations from their exact Gaussian law given the layer below; see above).
enum class deepnet_sampling { weights, conditional };
std::string_view to_string(deepnet_sampling s);
void parse_param(std::string_view text, std::string_view field, deepnet_sampling& out);
std::string param_text(deepnet_sampling s);

struct deepnet_params {
  model_params model = defaults::depth;  // phi, sigma_w, sigma_b (w0 = b0 = 0)
  std::int64_t n = 1000;     // width N (neurons per layer, >= 2)
  std::int64_t layers = 30;  // depth L (>= 1)
  std::int64_t nets = 20;    // independent networks (>= 1; standard errors need >= 2)
  double q0 = 1.0;           // empirical second moment of each input (units of h^2, > 0)
  double c0 = 0.5;           // empirical correlation of the two inputs (in [-1, 1])
  input_kind inputs = input_kind::exact;  // exact: the empirical q0, c0; gaussian: i.i.d. normal components
  std::vector<double> widths;             // the width sweep (integers >= 2; empty: one width n)
  bool tied = false;  // the same (W, b) at every layer (the discrete-time recurrent net): layer 1 is
                      // the untied net's layer 1 (the same random numbers), later layers reuse it
  deepnet_sampling sampling = deepnet_sampling::weights;  // conditional: untied nets only
  std::int64_t seed = 1;     // random seed (>= 0)
  std::int64_t threads = 0;  // OpenMP threads over networks (0: all available)

  void validate() const;
  static const param_table<deepnet_params>& table();  // the vocabulary of `amari deepnet`
};

// The two maps as curves, for cobweb plots (the layout of Poole et al. 2016, Figs. 1-2):
//   V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 on `points` values q = 0 .. q_max, with
//          q_max = 1.25 max(q0, q* and every finite q^l of `q_map`);
//   C(c) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / V(q_c), u1, u2 of variance q_c and
//          correlation c, on `points` values c = -1 .. 1, at q_c = q* (the correlation map of the
//          notes), or, where q* is undefined or 0 (divergent, collapsed), at the last finite
//          positive q^l of the map (NaN if there is none).
// Evaluated with length_map and correlation_map of amari/theory/maps.hpp.
struct map_curves {
  std::vector<double> q, V;  // the length map
  std::vector<double> c, C;  // the correlation map at q_c
  double q_c = 0;
  bool q_c_is_fixed_point = false;  // q_c = q*
};
// Per-layer arrays have layers + 1 entries (l = 0..L); per-network arrays are row-major
// (nets, layers + 1). lambda at l = 0 is NaN (no layer yet); standard errors are NaN for one net.
struct deepnet_result {
  std::int64_t nets = 0, layers = 0;
  // per network and layer
  std::vector<double> q1, q2, c, lambda;
  std::vector<double> m4;  // (1/N) sum_i (h^l_i1)^4, for the kurtosis of the width sweep (not written)
  // over networks: mean and standard error of the mean (sample standard deviation / sqrt(nets))
  std::vector<double> q1_mean, q1_sem, q2_mean, q2_sem, c_mean, c_sem, lambda_mean, lambda_sem;
  // the maps from the same q^0, c^0
  std::vector<double> q_map, c_map, lambda_map;
  // the maps' fixed point and phase (solve_maps), and the maps as curves (sample_map_curves)
  maps_result fixed;
  map_curves curves;
  // The width sweep (deepnet_params::widths; empty without it), [width][layer] row-major: the
  // measured n-scaled 1/n quantities of docs/finite_width.md, their standard errors over the networks
  // (jackknife for var_q and kurtosis), and the theory of amari/theory/finite.hpp beside them.
  // The per-network arrays above are then those of the last width.
  struct width_sweep {
    std::vector<std::int64_t> widths;
    std::vector<double> var_q, var_q_sem, theory_var_q;                 // n Var(q^l_1)
    std::vector<double> kurtosis, kurtosis_sem, theory_kurtosis;        // n x excess kurtosis of h^l_i1
    std::vector<double> mean_shift, mean_shift_sem, theory_mean_shift;  // n (mean q^l_1 - K^l)
    std::vector<double> c_shift, c_shift_sem, theory_c_shift;           // n (mean c^l - c^l of the map)
  } sweep;
};

// Runs the networks (OpenMP over networks); polls ctl after each network and throws
// amari::Interrupted when asked to stop. With p.widths, runs p.nets networks at each width.
deepnet_result run_deepnet(const deepnet_params& p, const run_control& ctl = {});

// Appends to s the row of width n measured on the networks of r (its per-network arrays, all at
// width n; r.nets >= 3), beside the theory th at the same parameters: what run_deepnet does for
// each width of a sweep (also used by `amari compare` for its finite_* rows).
void measure_width(const deepnet_result& r, double n, const finite_result& th, deepnet_result::width_sweep& s);

// The maps' prediction alone (q_map, c_map, lambda_map of run_deepnet).
struct depth_trajectory {
  std::vector<double> q, c, lambda;
};
depth_trajectory iterate_maps(const model_params& model, double q0, double c0, std::int64_t layers);

map_curves sample_map_curves(const deepnet_params& p, const std::vector<double>& q_map,
                             std::optional<double> q_star, std::int64_t points = 201);

}  // namespace amari

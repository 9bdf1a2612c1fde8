// The 1/n corrections of deep random networks (include/amari/theory/finite.hpp, docs/finite_width.md).
#include "amari/theory/finite.hpp"

#include <Eigen/Core>
#include <Eigen/LU>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"
#include "amari/theory/maps.hpp"

namespace amari {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Where 1 - |c| falls below this, the two-point derivatives (Hermite polynomials in K^{-1} u) are
// not computed: their rounding error grows like 1e-12 / (1 - c^2)^2.
constexpr double c_margin = 1e-4;

// Polynomials in (u1, u2) of total degree <= 4: P(i, j) is the coefficient of u1^i u2^j.
using poly = Eigen::Matrix<double, 5, 5>;

poly times(const poly& a, const poly& b) {
  poly r = poly::Zero();
  for (int i = 0; i < 5; ++i)
    for (int j = 0; i + j < 5; ++j) {
      if (a(i, j) == 0) continue;
      for (int k = 0; i + k < 5; ++k)
        for (int m = 0; i + j + k + m < 5; ++m) r(i + k, j + m) += a(i, j) * b(k, m);
    }
  return r;
}

poly constant(double x) {
  poly r = poly::Zero();
  r(0, 0) = x;
  return r;
}

}  // namespace

finite_pair_moments finite_two_point(const Activation& act, double K11, double K12, double K22) {
  const double s1 = std::sqrt(K11), s2 = std::sqrt(K22);
  const double c = K12 / (s1 * s2);
  // M(i, j) = <phi(u1) u1^i phi(u2) u2^j>
  poly M = poly::Zero();
  for (int i = 0; i < 5; ++i) {
    const auto g = expect2(
        act, [i](const auto& v) { return v.phi() * v.x().pow(double(i)); },
        [](const auto& v) {
          const auto& x = v.x();
          return std::make_tuple(v.phi(), v.phi() * x, v.phi() * x.square(), v.phi() * x.cube(),
                                 v.phi() * x.square().square());
        },
        K11, K22, c);
    for (int j = 0; i + j < 5; ++j) M(i, j) = g[j];
  }
  finite_pair_moments r;
  r.F12 = M(0, 0);
  r.p13 = expect2(act, [](const auto& v) { return v.phi(); }, [](const auto& v) { return v.phi().cube(); }, K11, K22, c);
  r.p22 = expect2(act, [](const auto& v) { return v.phi().square(); }, [](const auto& v) { return v.phi().square(); },
                  K11, K22, c);
  r.p31 = expect2(act, [](const auto& v) { return v.phi().cube(); }, [](const auto& v) { return v.phi(); }, K11, K22, c);

  // w = K^{-1} u; He_ab = w_a w_b - k_ab; He_abcd = w_a w_b w_c w_d - (6 terms k w w) + (3 terms k k).
  const double det = K11 * K22 - K12 * K12;
  const double k[2][2] = {{K22 / det, -K12 / det}, {-K12 / det, K11 / det}};
  poly w[2];
  for (int a = 0; a < 2; ++a) {
    w[a] = poly::Zero();
    w[a](1, 0) = k[a][0];
    w[a](0, 1) = k[a][1];
  }
  const int pair[3][2] = {{0, 0}, {0, 1}, {1, 1}};
  const double mult[3] = {0.5, 1.0, 0.5};
  auto mean = [&](const poly& h) { return (h.array() * M.array()).sum(); };
  for (int y = 0; y < 3; ++y) {
    const int a = pair[y][0], b = pair[y][1];
    r.d[y] = mult[y] * mean(times(w[a], w[b]) - constant(k[a][b]));
  }
  for (int y = 0; y < 3; ++y)
    for (int z = y; z < 3; ++z) {
      const int i[4] = {pair[y][0], pair[y][1], pair[z][0], pair[z][1]};
      poly he = times(times(w[i[0]], w[i[1]]), times(w[i[2]], w[i[3]]));
      const int pairs[3][2][2] = {{{0, 1}, {2, 3}}, {{0, 2}, {1, 3}}, {{0, 3}, {1, 2}}};
      for (const auto& pp : pairs) {
        const int a = i[pp[0][0]], b = i[pp[0][1]], cc = i[pp[1][0]], d = i[pp[1][1]];
        he -= k[a][b] * times(w[cc], w[d]) + k[cc][d] * times(w[a], w[b]);
        he += constant(k[a][b] * k[cc][d]);
      }
      r.d2(y, z) = r.d2(z, y) = mult[y] * mult[z] * mean(he);
    }
  return r;
}

namespace {

// The Wick covariance n Cov(q_x, q_y) of q_ab = (1/n) sum_i h_ia h_ib, h_i ~ N(0, K): K_ac K_bd + K_ad K_bc.
Eigen::Matrix3d wick(double K11, double K12, double K22) {
  const double Km[2][2] = {{K11, K12}, {K12, K22}};
  const int pair[3][2] = {{0, 0}, {0, 1}, {1, 1}};
  Eigen::Matrix3d W;
  for (int x = 0; x < 3; ++x)
    for (int y = 0; y < 3; ++y) {
      const int a = pair[x][0], b = pair[x][1], c = pair[y][0], d = pair[y][1];
      W(x, y) = Km[a][c] * Km[b][d] + Km[a][d] * Km[b][c];
    }
  return W;
}

// n (E c - c_K) for c = q12 / sqrt(q11 q22) with E q = K + G1 / n and n Cov(q) = S (the delta method).
double correlation_shift(double K11, double K12, double K22, const Eigen::Vector3d& G1, const Eigen::Matrix3d& S) {
  const double r = std::sqrt(K11 * K22), c = K12 / r;
  const Eigen::Vector3d grad(-c / (2 * K11), 1 / r, -c / (2 * K22));
  Eigen::Matrix3d H;
  H << 3 * c / (4 * K11 * K11), -1 / (2 * K11 * r), c / (4 * K11 * K22),  //
      -1 / (2 * K11 * r), 0, -1 / (2 * K22 * r),                          //
      c / (4 * K11 * K22), -1 / (2 * K22 * r), 3 * c / (4 * K22 * K22);
  return grad.dot(G1) + 0.5 * (H.array() * S.array()).sum();
}

// One layer of the two-input recursions at K11 = K22 = K (the same q0 for both inputs), given the
// one-point moments m at K: K12, the vertex V and the mean shift G of the next layer.
struct two_step {
  double K12 = 0;
  Eigen::Matrix3d V, J;  // J: Cw d<F_x>/dK_y at this layer
  Eigen::Vector3d G;
  finite_pair_moments t;
};

two_step two_input_step(const Activation& phi, double Cw, double Cb, const finite_moments& m, double K, double K12,
                        const Eigen::Matrix3d& V2, const Eigen::Vector3d& G) {
  two_step r;
  const finite_pair_moments& t = r.t = finite_two_point(phi, K, K12, K);
  const double chi = Cw * m.d_phi2;
  r.K12 = Cb + Cw * t.F12;
  Eigen::Matrix3d& J = r.J;
  J.setZero();
  J(0, 0) = J(2, 2) = chi;
  for (int y = 0; y < 3; ++y) J(1, y) = Cw * t.d[y];
  Eigen::Matrix3d C4;  // <F_x F_y> - <F_x><F_y>
  C4 << m.phi4 - m.phi2 * m.phi2, t.p31 - m.phi2 * t.F12, t.p22 - m.phi2 * m.phi2,  //
      t.p31 - m.phi2 * t.F12, t.p22 - t.F12 * t.F12, t.p13 - t.F12 * m.phi2,          //
      t.p22 - m.phi2 * m.phi2, t.p13 - t.F12 * m.phi2, m.phi4 - m.phi2 * m.phi2;
  r.V = Cw * Cw * C4 + J * V2 * J.transpose();
  r.G = J * G;
  r.G(0) += 0.5 * Cw * m.d2_phi2 * V2(0, 0);
  r.G(2) += 0.5 * Cw * m.d2_phi2 * V2(2, 2);
  r.G(1) += 0.5 * Cw * (t.d2.array() * V2.array()).sum();
  return r;
}

}  // namespace

std::string_view to_string(input_kind k) { return k == input_kind::exact ? "exact" : "gaussian"; }

void parse_param(std::string_view text, std::string_view field, input_kind& out) {
  if (text == "exact")
    out = input_kind::exact;
  else if (text == "gaussian")
    out = input_kind::gaussian;
  else
    throw InvalidArgument(field, text, "must be exact or gaussian");
}

std::string param_text(input_kind k) { return std::string(to_string(k)); }

const param_table<finite_params>& finite_params::table() {
  using P = finite_params;
  static const auto t = param_table<P>("finite")
                            .add("phi", [](P& p) -> auto& { return p.model.phi; })
                            .add("sigma_w", [](P& p) -> auto& { return p.model.sigma_w; })
                            .add("sigma_b", [](P& p) -> auto& { return p.model.sigma_b; })
                            .add("q0", [](P& p) -> auto& { return p.q0; })
                            .add("c0", [](P& p) -> auto& { return p.c0; })
                            .add("inputs", [](P& p) -> auto& { return p.inputs; })
                            .add("layers", [](P& p) -> auto& { return p.layers; });
  return t;
}

void finite_params::validate() const {
  model.validate();
  model.require_centred("the finite-width theory");
  require_positive("sigma_w", model.sigma_w);
  require_positive("q0", q0);
  require_in_range("c0", c0, -1.0, 1.0);
  require_int_range("layers", layers, 1, 100'000);
}

finite_moments finite_one_point(const Activation& phi, double K) {
  const auto m = expect(
      phi,
      [](const auto& v) {
        const auto f = v.phi().square();
        const auto z2 = v.z().square();
        return std::make_tuple(f, f.square(), f * (z2 - 1), f * (z2 * (z2 - 6) + 3));
      },
      K);
  return {.phi2 = m[0], .phi4 = m[1], .d_phi2 = m[2] / (2 * K), .d2_phi2 = m[3] / (4 * K * K)};
}

finite_result run_finite(const finite_params& p) {
  p.validate();
  const Activation& phi = p.model.phi;
  const double Cw = p.model.sigma_w * p.model.sigma_w, Cb = p.model.sigma_b * p.model.sigma_b;
  const std::int64_t L = p.layers;
  const auto n = static_cast<std::size_t>(L + 1);
  finite_result r;
  r.layers = L;
  for (auto* v : {&r.K, &r.V, &r.G1, &r.chi_par, &r.var_q, &r.kurtosis, &r.mean_shift, &r.K12, &r.c, &r.G1_12,
                  &r.V_11_12, &r.V_11_22, &r.V_12_12, &r.cov_q11_q12, &r.cov_q11_q22, &r.var_q12, &r.c_shift,
                  &r.lambda_shift})
    v->assign(n, nan);

  // The start (layer 0).
  const bool exact = p.inputs == input_kind::exact;
  double K = p.q0, K12 = p.c0 * p.q0;
  Eigen::Matrix3d V2 = exact ? Eigen::Matrix3d(-wick(K, K12, K)) : Eigen::Matrix3d::Zero();
  Eigen::Vector3d G = Eigen::Vector3d::Zero();
  double V = V2(0, 0), G1 = 0;
  bool two = true;  // the two-input quantities are still computed
  // The tangent vector's correlation with h (finite-width chi_1): A^l = n E[a^l^2] / n with
  // a^l = sum_k phi(h^l_k) phi'(h^l_k) v^l_k; v^0 is a random unit vector, independent of h^0.
  double A_prev = nan;
  double A_cur = expect(phi, [](const auto& v) { return (v.phi() * v.dphi()).square(); }, K);

  for (std::int64_t l = 0;; ++l) {
    const auto i = static_cast<std::size_t>(l);
    r.K[i] = K;
    r.V[i] = V;
    r.G1[i] = G1;
    r.var_q[i] = 2 * K * K + V;
    r.kurtosis[i] = 3 * V / (K * K);
    r.mean_shift[i] = G1;
    r.K12[i] = K12;
    r.c[i] = K12 / K;
    if (two) {
      const Eigen::Matrix3d S = wick(K, K12, K) + V2;
      r.G1_12[i] = G(1);
      r.V_11_12[i] = V2(0, 1);
      r.V_11_22[i] = V2(0, 2);
      r.V_12_12[i] = V2(1, 1);
      r.cov_q11_q12[i] = S(0, 1);
      r.cov_q11_q22[i] = S(0, 2);
      r.var_q12[i] = S(1, 1);
      r.c_shift[i] = correlation_shift(K, K12, K, G, S);
    }
    if (l == L) break;

    // The per-layer growth of a perturbation at layer l + 1 (docs/finite_width.md, "The
    // finite-width chi_1"): P = <phi'^2>_K and its K-derivatives, the moments of the h-v correlation.
    {
      const auto e = expect(
          phi,
          [](const auto& v) {
            const auto d2 = v.dphi().square();
            const auto z2 = v.z().square();
            return std::make_tuple(d2, d2 * (z2 - 1), d2 * (z2 * (z2 - 6) + 3), d2 * v.x().square(), d2.square(),
                                   (v.phi() * v.dphi()).square(), v.phi() * v.dphi() * v.x());
          },
          K);
      const double P = e[0], P1 = e[1] / (2 * K), P2 = e[2] / (4 * K * K), Q = e[3], R4 = e[4], B = e[5], C = e[6];
      const double rho2n = l == 0 ? 0.0 : Cw * A_prev / (K * P);  // n E[rho^2], rho = corr(h_j, t_j)
      r.lambda_shift[i + 1] = 0.5 * ((P1 / P) * G1 + 0.5 * (P2 / P - (P1 / P) * (P1 / P)) * V +
                                     rho2n * (Q / (K * P) - 1) - (3 * R4 - P * P) / (2 * P * P));
      const double A_next = B + Cw * C * C / (K * K * P) * A_cur;
      A_prev = A_cur;
      A_cur = A_next;
    }

    // One input.
    const finite_moments m = finite_one_point(phi, K);
    const double chi = Cw * m.d_phi2;
    r.chi_par[i] = chi;
    const double K_next = Cb + Cw * m.phi2;
    const double V_next = Cw * Cw * (m.phi4 - m.phi2 * m.phi2) + chi * chi * V;
    const double G1_next = chi * G1 + 0.5 * Cw * m.d2_phi2 * V;

    // Two inputs (the same q0: K11 = K22 = K at every layer).
    double K12_next = nan;
    if (two && 1 - std::abs(K12 / K) >= c_margin) {
      const two_step st = two_input_step(phi, Cw, Cb, m, K, K12, V2, G);
      K12_next = st.K12;
      V2 = st.V;
      G = st.G;
    } else {
      two = false;
      if (std::isfinite(K12)) K12_next = Cb + Cw * E_phi_phi(phi, K, K, std::clamp(K12 / K, -1.0, 1.0));
    }
    K = K_next;
    V = V_next;
    G1 = G1_next;
    K12 = K12_next;
  }
  const finite_depth_scale d = finite_correlation_depth(p.model);
  r.c_star = d.c_star;
  r.chi_c = d.chi_c;
  r.xi_c = d.xi_c;
  r.c_star_shift = d.c_star_shift;
  r.chi_c_shift = d.chi_c_shift;
  r.xi_c_shift = d.xi_c_shift;
  return r;
}

namespace {

// vec(J X J^T) = (J kron J) vec(X) for 3 x 3 matrices (column-major vec, Eigen's storage).
Eigen::Matrix<double, 9, 9> kron(const Eigen::Matrix3d& J) {
  Eigen::Matrix<double, 9, 9> k;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) k.block<3, 3>(3 * j, 3 * i) = J(j, i) * J;
  return k;
}

Eigen::Matrix3d unvec(const Eigen::Matrix<double, 9, 1>& v) { return Eigen::Map<const Eigen::Matrix3d>(v.data()); }
Eigen::Matrix<double, 9, 1> vec(const Eigen::Matrix3d& m) { return Eigen::Map<const Eigen::Matrix<double, 9, 1>>(m.data()); }

}  // namespace

finite_depth_scale finite_correlation_depth(const model_params& model) {
  finite_depth_scale r;
  const maps_result mr = solve_maps(model);
  if (!mr.q_star || !(*mr.q_star > 0) || !mr.c_star || !(1 - std::abs(*mr.c_star) >= 10 * c_margin)) return r;
  const Activation& phi = model.phi;
  const double Cw = model.sigma_w * model.sigma_w, Cb = model.sigma_b * model.sigma_b;
  const double K = *mr.q_star;
  const finite_moments m = finite_one_point(phi, K);
  const Eigen::Matrix3d zero = Eigen::Matrix3d::Zero();
  const Eigen::Vector3d zero_v = Eigen::Vector3d::Zero();
  // The fixed point K12* = c* q*, polished by Newton steps on K12 -> Cb + Cw <phi phi> (slope chi_c).
  double K12 = *mr.c_star * K;
  for (int it = 0; it < 3; ++it) {
    const two_step s = two_input_step(phi, Cw, Cb, m, K, K12, zero, zero_v);
    K12 -= (s.K12 - K12) / (s.J(1, 1) - 1);
  }
  const two_step s0 = two_input_step(phi, Cw, Cb, m, K, K12, zero, zero_v);
  const Eigen::Matrix3d& J = s0.J;
  const double chi_c = J(1, 1);  // Cw <phi'(u1) phi'(u2)> at (q*, c*)
  if (!(chi_c > 0 && chi_c < 1)) return r;
  r.q_star = K;
  r.c_star = K12 / K;
  r.chi_c = chi_c;
  r.xi_c = -1 / std::log(chi_c);
  // The fixed point of the vertex and of the mean shift: V* = S + J V* J^T (S: the source, the
  // step's V at V = 0), G* = J G* + s(V*) (s: the step's G at G = 0).
  const Eigen::Matrix<double, 9, 9> JJ = kron(J);
  const Eigen::Matrix<double, 9, 9> I9 = Eigen::Matrix<double, 9, 9>::Identity();
  const Eigen::Matrix3d V_star = unvec((I9 - JJ).partialPivLu().solve(vec(s0.V)));
  const two_step sv = two_input_step(phi, Cw, Cb, m, K, K12, V_star, zero_v);
  const Eigen::Vector3d G_star = (Eigen::Matrix3d::Identity() - J).partialPivLu().solve(sv.G);
  r.c_star_shift = correlation_shift(K, K12, K, G_star, wick(K, K12, K) + V_star);
  // The response of the step to K12 at (V*, G*): Y (the vertex) and X (the mean shift of K12), by
  // central differences.
  const double h = 1e-4 * K;
  const two_step up = two_input_step(phi, Cw, Cb, m, K, K12 + h, V_star, G_star);
  const two_step down = two_input_step(phi, Cw, Cb, m, K, K12 - h, V_star, G_star);
  const Eigen::Matrix3d Y = (up.V - down.V) / (2 * h);
  const double X = (up.G(1) - down.G(1)) / (2 * h);
  // The vertex follows the mode K12 - K12* ~ chi_c^l: dV = (chi_c - J kron J)^{-1} Y.
  const Eigen::Matrix3d dV = unvec((chi_c * I9 - JJ).partialPivLu().solve(vec(Y)));
  // The resonant source of G1_12: the O(1/n) shift of the eigenvalue chi_c.
  r.chi_c_shift = X + 0.5 * Cw * (s0.t.d2.array() * dV.array()).sum();
  r.xi_c_shift = r.xi_c * r.xi_c * r.chi_c_shift / chi_c;
  return r;
}

}  // namespace amari

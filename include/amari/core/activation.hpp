#pragma once
// Activation functions phi and what the theory needs of them.
//
//   tanh      phi(h) = tanh(g h)                     (gain g > 0, default 1)
//   erf       phi(h) = erf(h)
//   relu      phi(h) = max(0, h)
//   linear    phi(h) = h
//   hardtanh  phi(h) = max(-1, min(1, h))
//
// Each is a small policy class (like NEST's rate-neuron nonlinearities) with
//   phi, dphi = phi', d2phi = phi'' (pointwise; 0 on the flat pieces of the kinked ones),
//   Phi = the antiderivative of phi with Phi(0) = 0 (the SCS potential needs it),
// each written once as a template over the argument: a double, or an Eigen array expression, so
// the simulator's vectorised right-hand side and the scalar quadrature share one definition.
// `Activation` holds one of them in a std::variant; callers dispatch once with `visit`, never per
// element. Besides values, each policy states the analytic facts quadrature rules need: where it
// has kinks, and how far its complex singularities are from the real axis.
//
// Derivatives at a kink are the right-hand values (relu'(0) = 0 would also do: a kink has
// Gaussian measure zero, and the expectations below never sample it).
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace amari {

namespace detail {
template <class T>
struct scalar_of {
  using type = typename T::Scalar;
};
template <class T>
  requires std::is_arithmetic_v<T>
struct scalar_of<T> {
  using type = T;
};
template <class T>
using scalar_t = typename scalar_of<std::remove_cvref_t<T>>::type;

// std::erf for Eigen arrays (Eigen 3.4 vectorises erf only in float with fast math).
struct erf_op {
  template <class T>
  T operator()(T x) const {
    return std::erf(x);
  }
};
}  // namespace detail

// phi(h) = tanh(g h). Poles of tanh(g h) at h = i pi (2k+1) / (2 g).
struct tanh_phi {
  double g = 1.0;

  static constexpr std::string_view name = "tanh";
  static constexpr bool odd = true;
  static constexpr bool bounded = true;

  // Double arrays: 1 - 2 / (exp(2 g h) + 1) is one vectorised exp per element and is exact at
  // +-infinity; its absolute error is below 3e-16 everywhere. Floats use Eigen's own vectorised
  // tanh. Scalars use std::tanh.
  template <class T>
  auto phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>) {
      return std::tanh(static_cast<T>(g) * h);
    } else {
      using S = typename T::Scalar;
      if constexpr (std::is_same_v<S, float>) {
        return (h * static_cast<float>(g)).tanh();
      } else {
        return S(1) - S(2) / ((h * S(2 * g)).exp() + S(1));
      }
    }
  }
  // g sech^2(g h) = 4 g e / (1 + e)^2 with e = exp(-2 g |h|) (no overflow, no cancellation).
  template <class T>
  auto dphi(const T& h) const {
    using S = detail::scalar_t<T>;
    if constexpr (std::is_arithmetic_v<T>) {
      const S e = std::exp(-S(2 * g) * std::abs(h));
      return S(4 * g) * e / ((S(1) + e) * (S(1) + e));
    } else {
      return S(4 * g) * (h.abs() * S(-2 * g)).exp() /
             ((S(1) + (h.abs() * S(-2 * g)).exp()).square());
    }
  }
  // -2 g^2 tanh(g h) sech^2(g h)
  template <class T>
  auto d2phi(const T& h) const {
    using S = detail::scalar_t<T>;
    return S(-2 * g) * phi(h) * dphi(h);
  }
  // log(cosh(g h)) / g = (|g h| + log1p(exp(-2|g h|)) - log 2) / g
  template <class T>
  auto Phi(const T& h) const {
    using S = detail::scalar_t<T>;
    if constexpr (std::is_arithmetic_v<T>) {
      const S a = S(g) * std::abs(h);
      return (a + std::log1p(std::exp(-S(2) * a)) - std::numbers::ln2_v<S>) / S(g);
    } else {
      return (h.abs() * S(g) + ((h.abs() * S(-2 * g)).exp() + S(1)).log() -
              std::numbers::ln2_v<S>) / S(g);
    }
  }

  double singularity_distance() const { return std::numbers::pi / (2 * g); }  // poles of tanh(g x)
  std::span<const double> kinks() const { return {}; }
  double dphi0() const { return g; }  // phi'(0)
};

// phi(h) = erf(h). Entire; |erf(x + i y)| grows like exp(y^2).
struct erf_phi {
  static constexpr std::string_view name = "erf";
  static constexpr bool odd = true;
  static constexpr bool bounded = true;

  template <class T>
  auto phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return std::erf(h);
    else
      return h.unaryExpr(detail::erf_op{});
  }
  template <class T>
  auto dphi(const T& h) const {  // 2/sqrt(pi) exp(-h^2)
    if constexpr (std::is_arithmetic_v<T>)
      return T(std::numbers::inv_sqrtpi * 2) * std::exp(-h * h);
    else {
      using S = typename T::Scalar;
      return S(std::numbers::inv_sqrtpi * 2) * (-h.square()).exp();
    }
  }
  template <class T>
  auto d2phi(const T& h) const {  // -2 h phi'(h)
    if constexpr (std::is_arithmetic_v<T>)
      return T(-2) * h * dphi(h);
    else {
      using S = typename T::Scalar;
      return S(-2) * h * dphi(h);
    }
  }
  template <class T>
  auto Phi(const T& h) const {  // h erf(h) + (exp(-h^2) - 1)/sqrt(pi)
    if constexpr (std::is_arithmetic_v<T>)
      return h * std::erf(h) + std::expm1(-h * h) * T(std::numbers::inv_sqrtpi);
    else {
      using S = typename T::Scalar;
      return h * phi(h) + ((-h.square()).exp() - S(1)) * S(std::numbers::inv_sqrtpi);
    }
  }

  // Entire, but |erf(x + i y)| grows like exp(y^2 - x^2): for quadrature it behaves like a function
  // with singularities at distance ~1 from x = 0 (calibrated in tests/test_gauss.cpp).
  double singularity_distance() const { return 1.0; }
  std::span<const double> kinks() const { return {}; }
  double dphi0() const { return 2 * std::numbers::inv_sqrtpi; }
};

// phi(h) = max(0, h).
struct relu_phi {
  static constexpr std::string_view name = "relu";
  static constexpr bool odd = false;
  static constexpr bool bounded = false;
  static constexpr double kinks_[1] = {0.0};

  template <class T>
  auto phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return h > T(0) ? h : T(0);
    else
      return h.max(typename T::Scalar(0));
  }
  template <class T>
  auto dphi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return h > T(0) ? T(1) : T(0);
    else {
      using S = typename T::Scalar;
      return (h > S(0)).template cast<S>();
    }
  }
  template <class T>
  auto d2phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return T(0);
    else
      return T::Zero(h.rows(), h.cols());
  }
  template <class T>
  auto Phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return h > T(0) ? T(0.5) * h * h : T(0);
    else {
      using S = typename T::Scalar;
      return S(0.5) * h.max(S(0)).square();
    }
  }

  double singularity_distance() const { return std::numeric_limits<double>::infinity(); }
  std::span<const double> kinks() const { return kinks_; }
  double dphi0() const { return 1; }  // right derivative
};

// phi(h) = h.
struct linear_phi {
  static constexpr std::string_view name = "linear";
  static constexpr bool odd = true;
  static constexpr bool bounded = false;

  template <class T>
  auto phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return h;
    else
      return h * typename T::Scalar(1);
  }
  template <class T>
  auto dphi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return T(1);
    else {
      return T::Constant(h.rows(), h.cols(), typename T::Scalar(1));
    }
  }
  template <class T>
  auto d2phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return T(0);
    else
      return T::Zero(h.rows(), h.cols());
  }
  template <class T>
  auto Phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return T(0.5) * h * h;
    else
      return typename T::Scalar(0.5) * h.square();
  }

  double singularity_distance() const { return std::numeric_limits<double>::infinity(); }
  std::span<const double> kinks() const { return {}; }
  double dphi0() const { return 1; }
};

// phi(h) = max(-1, min(1, h)).
struct hardtanh_phi {
  static constexpr std::string_view name = "hardtanh";
  static constexpr bool odd = true;
  static constexpr bool bounded = true;
  static constexpr double kinks_[2] = {-1.0, 1.0};

  template <class T>
  auto phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return h < T(-1) ? T(-1) : (h > T(1) ? T(1) : h);
    else {
      using S = typename T::Scalar;
      return h.max(S(-1)).min(S(1));
    }
  }
  template <class T>
  auto dphi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return (h >= T(-1) && h < T(1)) ? T(1) : T(0);
    else {
      using S = typename T::Scalar;
      return ((h >= S(-1)) && (h < S(1))).template cast<S>();
    }
  }
  template <class T>
  auto d2phi(const T& h) const {
    if constexpr (std::is_arithmetic_v<T>)
      return T(0);
    else
      return T::Zero(h.rows(), h.cols());
  }
  template <class T>
  auto Phi(const T& h) const {  // h^2/2 inside, |h| - 1/2 outside
    if constexpr (std::is_arithmetic_v<T>)
      return std::abs(h) < T(1) ? T(0.5) * h * h : std::abs(h) - T(0.5);
    else {
      using S = typename T::Scalar;
      return (h.abs() < S(1)).select(S(0.5) * h.square(), h.abs() - S(0.5));
    }
  }

  double singularity_distance() const { return std::numeric_limits<double>::infinity(); }
  std::span<const double> kinks() const { return kinks_; }
  double dphi0() const { return 1; }
};

// One of the activations above, chosen at run time by a string.
class Activation {
 public:
  using variant_type = std::variant<tanh_phi, erf_phi, relu_phi, linear_phi, hardtanh_phi>;

  Activation() : v_(tanh_phi{}) {}
  template <class P>
    requires std::is_constructible_v<variant_type, P>
  Activation(P p) : v_(std::move(p)) {}  // NOLINT(google-explicit-constructor)

  // "tanh", "tanh:g=1.5", "erf", "relu", "linear", "hardtanh". Throws InvalidArgument naming
  // `field` and listing the accepted forms.
  static Activation parse(std::string_view spec, std::string_view field = "phi");
  static std::string_view accepted_forms();

  // The canonical spelling: parse(spec()) gives the same activation.
  std::string spec() const;

  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit(std::forward<F>(f), v_);
  }

  // Scalar convenience (one dispatch per call; use visit() in loops).
  double phi(double h) const;
  double dphi(double h) const;
  double d2phi(double h) const;
  double Phi(double h) const;
  double dphi0() const;  // phi'(0)
  bool odd() const;
  bool bounded() const;
  bool smooth() const;  // no kinks

  const variant_type& variant() const { return v_; }
  friend bool operator==(const Activation& a, const Activation& b) { return a.spec() == b.spec(); }

 private:
  variant_type v_;
};

}  // namespace amari

#pragma once
// The tolerance helpers of the test suite, one for each kind of comparison:
//
//   close_to(expected, rel, abs)   a deterministic number: |actual - expected| <= max(rel |expected|, abs)
//   within_se(expected, se, k, allowance)
//                                  an estimate with a standard error (an ensemble or time average):
//                                  |actual - expected| <= k se + allowance
//   bonferroni_k(m, dof)           the k that such a test needs when it makes m comparisons at once
//
// How to choose k. A test that compares m estimates with their predictions fails by chance when
// any one of them lies more than k se away. If each estimate is (nearly) normal with a standard
// error known exactly, the chance that a given one does is 2 (1 - Phi(k)); by Bonferroni's
// inequality the chance that any of the m does is at most m times that, whatever their
// correlations. We allow a family-wise false-failure rate of 1e-3 per test: over a thousand seeds,
// about one failure. When the standard error is itself estimated from d independent samples
// (draws, networks, batches), (actual - expected) / se follows Student's t with d - 1 degrees of
// freedom, whose tails are heavier: bonferroni_k(m, d - 1) uses its quantile. A systematic
// difference that the theory leaves out (an O(1/N) finite-size bias, an integration error) is
// not a matter of chance: it goes into the `allowance`, derived next to the test that uses it.
// Never tune k, the allowance or a seed until a test passes.
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace amari::test {

struct close_to : Catch::MatcherBase<double> {
  double expected, rel, abs;
  close_to(double e, double r, double a = 0.0) : expected(e), rel(r), abs(a) {}
  bool match(const double& actual) const override {
    if (std::isnan(actual) || std::isnan(expected)) return false;
    if (std::isinf(expected)) return actual == expected;
    return std::abs(actual - expected) <= std::max(rel * std::abs(expected), abs);
  }
  std::string describe() const override {
    std::ostringstream os;
    os.precision(17);
    os << "is within rel " << rel << " / abs " << abs << " of " << expected;
    return os.str();
  }
};

// Relative error, with a floor on the denominator (for values near zero).
inline double rel_err(double actual, double expected, double floor = 1e-300) {
  return std::abs(actual - expected) / std::max(std::abs(expected), floor);
}

// The k of an m-fold comparison at a family-wise false-failure rate `rate` (see the header):
// the two-sided 1 - rate / m quantile of the normal distribution, or of Student's t with `dof`
// degrees of freedom when the standard errors are estimated from dof + 1 samples.
inline double bonferroni_k(int comparisons, double dof = std::numeric_limits<double>::infinity(),
                           double rate = 1e-3) {
  const double p = 1 - rate / (2.0 * comparisons);
  if (std::isinf(dof)) return boost::math::quantile(boost::math::normal_distribution<double>(), p);
  return boost::math::quantile(boost::math::students_t_distribution<double>(dof), p);
}

// An estimate with standard error se agrees with `expected`: |actual - expected| <= k se + allowance.
// A NaN estimate or standard error never agrees.
struct within_se : Catch::MatcherBase<double> {
  double expected, se, k, allowance;
  within_se(double e, double s, double k_, double a = 0.0) : expected(e), se(s), k(k_), allowance(a) {}
  bool match(const double& actual) const override {
    if (!std::isfinite(actual) || !std::isfinite(expected) || !std::isfinite(se) || se < 0) return false;
    return std::abs(actual - expected) <= k * se + allowance;
  }
  std::string describe() const override {
    std::ostringstream os;
    os.precision(10);
    os << "is within " << k << " standard errors (" << se << ")";
    if (allowance > 0) os << " + " << allowance;
    os << " of " << expected;
    return os.str();
  }
};

}  // namespace amari::test

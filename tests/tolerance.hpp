#pragma once
// The one tolerance helper of the test suite: |actual - expected| <= max(rel * |expected|, abs).
#include <catch2/catch.hpp>
#include <cmath>
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

}  // namespace amari::test

// Activations: values, derivatives and antiderivatives against finite differences and identities;
// the parser's accepted and refused forms.
#include <catch2/catch.hpp>

#include "amari/core/activation.hpp"
#include "amari/core/error.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::test::close_to;

TEST_CASE("activation specs parse and print canonically", "[activation]") {
  CHECK(Activation::parse("tanh").spec() == "tanh");
  CHECK(Activation::parse("tanh:g=1.5").spec() == "tanh:g=1.5");
  CHECK(Activation::parse(" tanh : g = 2 ").spec() == "tanh:g=2");
  CHECK(Activation::parse("tanh:g=1").spec() == "tanh");
  for (const char* s : {"erf", "relu", "linear", "hardtanh"}) CHECK(Activation::parse(s).spec() == s);
}

TEST_CASE("bad activation specs are refused with the accepted forms", "[activation]") {
  for (const char* bad : {"sigmoid", "", "tanh:g=0", "tanh:g=-1", "tanh:g=abc", "tanh:k=2", "relu:g=2",
                          "tanh:g=inf", "tanh:g=nan", "TANH"}) {
    INFO(bad);
    try {
      (void)Activation::parse(bad);
      FAIL("accepted " << bad);
    } catch (const amari::InvalidArgument& e) {
      const std::string msg = e.what();
      CHECK(msg.rfind("phi = '", 0) == 0);
      CHECK(msg.find("accepted: tanh, tanh:g=<gain > 0>, erf, relu, linear, hardtanh") != std::string::npos);
    }
  }
}

TEST_CASE("derivatives and antiderivatives agree with finite differences", "[activation]") {
  const double eps = 1e-5;
  for (const char* s : {"tanh", "tanh:g=1.7", "erf", "relu", "linear", "hardtanh"}) {
    const Activation a = Activation::parse(s);
    INFO(s);
    for (double h : {-3.1, -1.3, -0.4, 0.27, 0.8, 2.2, 5.0}) {
      INFO(h);
      const double fd1 = (a.phi(h + eps) - a.phi(h - eps)) / (2 * eps);
      const double fd2 = (a.dphi(h + eps) - a.dphi(h - eps)) / (2 * eps);
      const double fdP = (a.Phi(h + eps) - a.Phi(h - eps)) / (2 * eps);
      CHECK_THAT(a.dphi(h), close_to(fd1, 1e-8, 1e-9));
      CHECK_THAT(a.d2phi(h), close_to(fd2, 1e-7, 1e-8));
      CHECK_THAT(fdP, close_to(a.phi(h), 1e-8, 1e-9));
    }
    CHECK(a.Phi(0.0) == 0.0);
  }
}

TEST_CASE("vectorised and scalar activations agree", "[activation]") {
  Eigen::ArrayXd x = Eigen::ArrayXd::LinSpaced(2001, -30, 30);
  Eigen::ArrayXf xf = x.cast<float>();
  for (const char* s : {"tanh", "tanh:g=0.3", "erf", "relu", "linear", "hardtanh"}) {
    const Activation a = Activation::parse(s);
    INFO(s);
    a.visit([&](const auto& p) {
      const Eigen::ArrayXd v = p.phi(x), d = p.dphi(x), d2 = p.d2phi(x), P = p.Phi(x);
      const Eigen::ArrayXf vf = p.phi(xf);
      for (Eigen::Index i = 0; i < x.size(); ++i) {
        REQUIRE_THAT(v[i], close_to(a.phi(x[i]), 1e-14, 3e-16));
        // The vectorised double tanh has an absolute error below 3e-16 (not a relative one), which
        // d2phi = -2 g phi phi' inherits near h = 0.
        REQUIRE_THAT(d[i], close_to(a.dphi(x[i]), 1e-14, 1e-300));
        REQUIRE_THAT(d2[i], close_to(a.d2phi(x[i]), 1e-13, 1e-15));
        REQUIRE_THAT(P[i], close_to(a.Phi(x[i]), 1e-14, 1e-15));
        REQUIRE_THAT(double(vf[i]), close_to(a.phi(x[i]), 1e-6, 1e-7));
      }
    });
  }
}

TEST_CASE("tanh with gain g is tanh(g h)", "[activation]") {
  const Activation a = Activation::parse("tanh:g=1.5");
  CHECK_THAT(a.phi(0.7), close_to(std::tanh(1.05), 1e-15));
  CHECK_THAT(a.dphi(0.7), close_to(1.5 / std::cosh(1.05) / std::cosh(1.05), 1e-14));
  CHECK_THAT(a.Phi(0.7), close_to(std::log(std::cosh(1.05)) / 1.5, 1e-14));
  CHECK(a.dphi0() == 1.5);
}

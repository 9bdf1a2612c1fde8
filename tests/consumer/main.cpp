// Uses an installed amari through its public headers: the version, a theory result (the edge of
// chaos of relu, exact: sigma_w = sqrt 2; its object file needs OpenMP's run-time at link time) and
// an HDF5 round trip through the store (HDF5 and fmt at link time). Prints what it got; the test
// (tests/consumer/check_install.py) compares the output.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/version.hpp"
#include "amari/io/store.hpp"
#include "amari/theory/maps.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DIR (a directory to write a file in)\n");
    return 2;
  }
  std::printf("amari %.*s\n", static_cast<int>(amari::version().size()), amari::version().data());

  const amari::edge_point e = amari::edge_of_chaos(amari::Activation::parse("relu"), 0.0);
  std::printf("edge of chaos (relu, sigma_b = 0): sigma_w = %.17g\n", e.sigma_w);

  const std::string path = (std::filesystem::path(argv[1]) / "consumer.h5").string();
  {
    amari::store::file_options o;
    o.product = "consumer";
    auto f = amari::store::file::create(path, o);
    f.group_at("/results").write("x", std::vector<double>{1.5, 2.5, 3.5}, {.description = "x"});
    f.finish("complete");
  }
  auto f = amari::store::file::open_read(path);
  std::printf("store round trip: status %s, x =", f.status().c_str());
  for (double x : f.group_at("/results").read_doubles("x")) std::printf(" %g", x);
  std::printf("\n");
  return 0;
}

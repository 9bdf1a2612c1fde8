// amari network: write the W and b that `amari simulate` draws for a seed and draw, so that they
// can be inspected, changed, or given back with --weights and --bias (docs/simulate.md).
#include <cstdio>

#include "amari/core/error.hpp"
#include "amari/io/layout/network.hpp"
#include "amari/sim/user_network.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"

namespace amari::cli {

namespace {

class network_command final : public command {
 public:
  std::string name() const override { return "network"; }
  std::string summary() const override { return "write the W and b that simulate draws (for --weights and --bias)"; }
  void declare(OptionSet& o) override {
    o.add_params(network_draw_params::table(), p_);
    o.add("output", output_, "output HDF5 file (/network/W, /network/b, docs/FORMAT.md)");
    o.add("force", force_);
    o.add("json", json_, "print the parameters, checksums and moments as JSON");
    o.add("quiet", quiet_);
  }

  int run(const invocation& inv) override {
    p_.validate();
    require_writable(output_, force_);
    const dense_network net = draw_dense_network(p_.net, p_.draw, static_cast<int>(p_.threads));
    auto f = create_output(inv, "network", output_, force_, p_.net.seed);
    layout::network::write(f, p_, net);
    f.finish("complete");
    io::record r = layout::network::to_record(p_, net);
    r.add("output", output_);
    if (json_) {
      print_json(r);
      return 0;
    }
    if (quiet_) return 0;
    std::printf("amari network: N = %lld, seed %lld, draw %lld: W_ij ~ N(w0 / N, sigma_w^2 / N), b_i ~ N(b0, sigma_b^2) "
                "with w0 = %s, sigma_w = %s, b0 = %s, sigma_b = %s\n",
                static_cast<long long>(p_.net.n), static_cast<long long>(p_.net.seed), static_cast<long long>(p_.draw),
                format_number(p_.net.model.w0).c_str(), format_number(p_.net.model.sigma_w).c_str(),
                format_number(p_.net.model.b0).c_str(), format_number(p_.net.model.sigma_b).c_str());
    std::printf("  written to %s:/network/W and %s:/network/b\n", output_.c_str(), output_.c_str());
    return 0;
  }

 private:
  network_draw_params p_;
  std::string output_ = "network.h5";
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_network_command() { return std::make_unique<network_command>(); }

}  // namespace amari::cli

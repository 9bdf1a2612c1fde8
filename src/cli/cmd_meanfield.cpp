// amari meanfield: integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points.
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "amari/error.hpp"
#include "amari/meanfield.hpp"
#include "amari/store.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

// Rows of a table of n samples to print: every stride-th with stride from 1, 2, 5, 10, 20, 50, ...
// so that about 25 rows remain, and the last.
std::vector<std::size_t> table_rows(std::size_t n) {
  std::size_t stride = 1;
  for (std::size_t k = 0; n > 25 * stride; ++k) stride *= (k % 3 == 1) ? 5 : 2;  // 2, 10, 20, 100, ...
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < n; i += stride) rows.push_back(i);
  if (n > 0 && rows.back() != n - 1) rows.push_back(n - 1);
  return rows;
}

// The plain-language note for a fixed point that Amari's ODE calls stable (or that the trajectory
// reaches) but that the network cannot hold: chi_1 > 1.
std::string network_note(const meanfield_params& p, const meanfield_result& r) {
  std::optional<std::size_t> which = r.final_fixed_point;
  if (!which)
    for (std::size_t i = 0; i < r.fixed_points.size(); ++i)
      if (r.fixed_points[i].stable && r.fixed_points[i].chi_1 > 1) {
        which = i;
        break;
      }
  if (!which) return "";
  const auto& fp = r.fixed_points[*which];
  if (fp.chi_1 <= 1) return "";
  std::string s = fmt::format(
      "fixed point #{} (q = {:.10g}) is unstable in the network: chi_1 = sigma_w^2 E[phi'(x)^2] = {:.6g} "
      "> 1, so the static state it describes breaks up into chaos and the network's variance is not "
      "this q. ",
      *which, fp.q, fp.chi_1);
  if (!p.phi.bounded())
    s += "For this unbounded activation the network then has no stationary state: its activity grows "
         "without bound.";
  else if (p.w0 == 0 && p.b0 == 0)
    s += fmt::format("The chaotic state's variance is the DMFT's Delta_0: run `amari dmft --phi {} "
                     "--sigma-w {} --sigma-b {}`.",
                     p.phi.spec(), format_number(p.sigma_w), format_number(p.sigma_b));
  else
    s += "The dynamic mean-field theory of the chaotic state (`amari dmft`) treats w0 = b0 = 0.";
  return s;
}

// /meanfield of docs/FORMAT.md.
void write_file(const std::string& path, bool force, const invocation& inv, const meanfield_params& p,
                const meanfield_settings& s, const meanfield_result& r, const std::string& note) {
  auto f = store::file::create(path, {.force = force, .command_line = inv.command_line,
                                      .config_toml = inv.options.resolved_toml(), .product = "meanfield"});
  auto g = f.group_at("/meanfield");
  g.attr("phi", p.phi.spec());
  g.attr("w0", p.w0);
  g.attr("b0", p.b0);
  g.attr("sigma_w", p.sigma_w);
  g.attr("sigma_b", p.sigma_b);
  g.attr("m0", s.m0);
  g.attr("q0", s.q0);
  g.attr("rtol", s.rtol);
  g.attr("atol", s.atol);
  g.attr("final_fixed_point", r.final_fixed_point ? std::int64_t(*r.final_fixed_point) : std::int64_t(-1));
  if (!note.empty()) g.attr("note", note);
  g.write_scale("t", r.t, {.description = "time", .units = "leak time constants"});
  g.write("m", r.m, {.description = "population mean of h", .units = "h", .dims = {"t"}});
  g.write("q", r.q, {.description = "population variance of h", .units = "h^2", .dims = {"t"}});

  auto fg = f.group_at("/meanfield/fixed_points");
  const std::size_t n = r.fixed_points.size();
  std::vector<std::int64_t> index(n), stable(n), network_stable(n), component{0, 1};
  std::vector<double> m(n), q(n), chi(n), re(2 * n), im(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& fp = r.fixed_points[i];
    index[i] = std::int64_t(i);
    m[i] = fp.m;
    q[i] = fp.q;
    chi[i] = fp.chi_1;
    stable[i] = fp.stable;
    network_stable[i] = fp.network_stable;
    for (int k = 0; k < 2; ++k) {
      re[2 * i + k] = fp.eigenvalues[k].real();
      im[2 * i + k] = fp.eigenvalues[k].imag();
    }
  }
  fg.write_scale("fixed_point", index, {.description = "index of the fixed point (sorted by m, then q)"});
  fg.write_scale("eigenvalue", component, {.description = "index of the Jacobian eigenvalue (by ascending real part)"});
  fg.write("m", m, {.description = "mean of h at the fixed point", .units = "h", .dims = {"fixed_point"}});
  fg.write("q", q, {.description = "variance of h at the fixed point", .units = "h^2", .dims = {"fixed_point"}});
  fg.write("eigenvalues_real", re, {.description = "real parts of the Jacobian's eigenvalues", .units = "1/leak time constant",
                                    .dims = {"fixed_point", "eigenvalue"}}, {n, 2});
  fg.write("eigenvalues_imag", im, {.description = "imaginary parts of the Jacobian's eigenvalues", .units = "1/leak time constant",
                                    .dims = {"fixed_point", "eigenvalue"}}, {n, 2});
  fg.write("stable", stable, {.description = "1 if both eigenvalues have negative real part", .dims = {"fixed_point"}});
  fg.write("chi_1", chi, {.description = "sigma_w^2 E[phi'(x)^2]: the network's static state is unstable if > 1",
                          .dims = {"fixed_point"}});
  fg.write("network_stable", network_stable, {.description = "1 if stable and chi_1 < 1", .dims = {"fixed_point"}});
  f.finish("complete");
}

class meanfield_command final : public command {
 public:
  std::string name() const override { return "meanfield"; }
  std::string summary() const override {
    return "integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points";
  }
  void declare(OptionSet& opts) override {
    opts.add("phi", phi_, "activation function: " + std::string(Activation::accepted_forms()));
    opts.add("w0", p_.w0, "mean coupling, J_ij ~ N(w0 / N, sigma_w^2 / N)");
    opts.add("b0", p_.b0, "mean bias, b_i ~ N(b0, sigma_b^2)", "units of h");
    opts.add("sigma-w", p_.sigma_w, "coupling standard deviation");
    opts.add("sigma-b", p_.sigma_b, "bias standard deviation", "units of h");
    opts.add("m0", s_.m0, "initial mean of h", "units of h");
    opts.add("q0", s_.q0, "initial variance of h", "units of h^2");
    opts.add("t-end", s_.t_end, "last output time (with --dt-out)", "leak time constants");
    opts.add("dt-out", s_.dt_out, "output spacing (with --t-end)", "leak time constants");
    opts.add("times", s_.times, "explicit output times t1,t2,... (instead of --t-end/--dt-out)",
             "leak time constants");
    opts.add("rtol", s_.rtol, "relative tolerance of the adaptive integrator");
    opts.add("atol", s_.atol, "absolute tolerance of the adaptive integrator");
    opts.add("o,output", output_, "write the result to this HDF5 file (/meanfield, docs/FORMAT.md)", "path");
    opts.add_flag("force", force_, "overwrite the output file if it exists");
    opts.add_flag("json", json_, "print the result as one JSON object on stdout");
    opts.add_flag("quiet", quiet_, "no progress bar and no text report");
    opts_ = &opts;
  }

  int run(const invocation& inv) override {
    if (opts_->given("times") && (opts_->given("t-end") || opts_->given("dt-out")))
      throw InvalidArgument("times: give either --times or --t-end/--dt-out, not both");
    p_.phi = Activation::parse(phi_, "phi");
    p_.validate();
    s_.validate();
    if (!output_.empty()) store::file::check_writable(output_, force_);
    progress_bar bar("meanfield", quiet_ || json_);
    run_control control{&stop_flag(), bar.callback()};
    const meanfield_result r = solve_meanfield(p_, s_, control);
    const std::string note = network_note(p_, r);
    if (!output_.empty()) write_file(output_, force_, inv, p_, s_, r, note);

    if (json_) {
      nlohmann::json j;
      j["t"] = r.t;
      j["m"] = r.m;
      j["q"] = r.q;
      nlohmann::json fps = nlohmann::json::array();
      for (const auto& fp : r.fixed_points) {
        nlohmann::json f;
        f["m"] = fp.m;
        f["q"] = fp.q;
        f["eigenvalues"] = {{fp.eigenvalues[0].real(), fp.eigenvalues[0].imag()},
                            {fp.eigenvalues[1].real(), fp.eigenvalues[1].imag()}};
        f["stable"] = fp.stable;
        f["chi_1"] = fp.chi_1;
        f["network_stable"] = fp.network_stable;
        fps.push_back(f);
      }
      j["fixed_points"] = fps;
      j["final_fixed_point"] = r.final_fixed_point ? nlohmann::json(*r.final_fixed_point) : nlohmann::json(nullptr);
      j["note"] = note.empty() ? nlohmann::json(nullptr) : nlohmann::json(note);
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (quiet_) return 0;

    std::printf("Amari's order-parameter equations: phi = %s, w0 = %s, b0 = %s, sigma_w = %s, sigma_b = %s\n",
                p_.phi.spec().c_str(), format_number(p_.w0).c_str(), format_number(p_.b0).c_str(),
                format_number(p_.sigma_w).c_str(), format_number(p_.sigma_b).c_str());
    std::printf("  from (m0, q0) = (%s, %s); rtol %s, atol %s\n", format_number(s_.m0).c_str(),
                format_number(s_.q0).c_str(), format_number(s_.rtol).c_str(), format_number(s_.atol).c_str());
    const auto rows = table_rows(r.t.size());
    std::printf("  %12s  %18s  %18s\n", "t", "m", "q");
    for (std::size_t i : rows) std::printf("  %12.6g  %18.12g  %18.12g\n", r.t[i], r.m[i], r.q[i]);
    if (rows.size() < r.t.size()) std::printf("  (%zu samples; --json for all)\n", r.t.size());
    std::printf("  fixed points:\n");
    for (std::size_t i = 0; i < r.fixed_points.size(); ++i) {
      const auto& fp = r.fixed_points[i];
      auto ev = [](std::complex<double> z) {
        return z.imag() == 0 ? fmt::format("{:.8g}", z.real()) : fmt::format("{:.8g}{:+.8g}i", z.real(), z.imag());
      };
      std::printf("    #%zu  m = %.12g, q = %.12g; eigenvalues %s, %s: %s; chi_1 = %.6g%s\n", i, fp.m, fp.q,
                  ev(fp.eigenvalues[0]).c_str(), ev(fp.eigenvalues[1]).c_str(), fp.stable ? "stable" : "unstable",
                  fp.chi_1, fp.chi_1 > 1 ? " (> 1: unstable in the network)" : "");
    }
    if (r.final_fixed_point)
      std::printf("  the trajectory converges to fixed point #%zu\n", *r.final_fixed_point);
    else
      std::printf("  the trajectory converges to no fixed point\n");
    if (!note.empty()) std::printf("  note: %s\n", note.c_str());
    return 0;
  }

 private:
  std::string phi_ = "tanh";
  meanfield_params p_;
  meanfield_settings s_;
  std::string output_;
  bool json_ = false, quiet_ = false, force_ = false;
  const OptionSet* opts_ = nullptr;
};

}  // namespace

std::unique_ptr<command> make_meanfield_command() { return std::make_unique<meanfield_command>(); }

}  // namespace amari::cli

// The theories at a simulation's parameters (include/amari/sim/predictions.hpp).
#include "amari/sim/predictions.hpp"

#include <cmath>
#include <exception>
#include <fmt/format.h>

#include "amari/core/error.hpp"

namespace amari {

simulation_predictions predict_simulation(const simulate_params& p, double m0, double q0,
                                          const user_network* u) {
  simulation_predictions out;
  empirical_model measured{p.net.model, ""};
  if (u) measured = measure_model(p.net, *u);
  out.model_note = measured.note;
  const model_params& model = measured.model;
  // The DMFT's model: measured means consistent with 0 (3 standard errors) taken as 0.
  model_params dmft_model = model;
  if (u) {
    const double root_n = std::sqrt(static_cast<double>(p.net.n));
    std::string zeroed;
    if (u->has_weights() && model.w0 != 0 && std::abs(model.w0) <= 3 * model.sigma_w / root_n)
      dmft_model.w0 = 0, zeroed += fmt::format("w0 = {}", format_number(model.w0));
    if (u->has_bias() && model.b0 != 0 && std::abs(model.b0) <= 3 * model.sigma_b / root_n)
      dmft_model.b0 = 0, zeroed += fmt::format("{}b0 = {}", zeroed.empty() ? "" : ", ", format_number(model.b0));
    if (!zeroed.empty())
      out.model_note += fmt::format("; the DMFT takes the measured {} as 0 (within 3 standard errors of 0)", zeroed);
  }
  const char* map_reason =
      "--stepper map is a discrete-time network: its mean-field theory is the length map (amari maps), "
      "not the ODEs";

  out.meanfield_setup.model = model;
  auto& ms = out.meanfield_setup.settings;
  ms.m0 = m0;
  ms.q0 = q0;
  if (p.stepper == stepper_kind::map) {
    out.meanfield_skipped = map_reason;
  } else {
    try {
      model.validate();
      ms.times.resize(static_cast<std::size_t>(p.samples()));
      for (std::size_t k = 0; k < ms.times.size(); ++k) ms.times[k] = static_cast<double>(k) * p.dt_out;
      ms.validate();
      out.meanfield = solve_meanfield(model, ms);
      out.meanfield_note = meanfield_network_note(model, *out.meanfield);
    } catch (const std::exception& e) {
      out.meanfield_skipped = fmt::format("the mean-field theory failed: {}", e.what());
    }
  }

  out.dmft_setup.model = dmft_model;
  auto& ds = out.dmft_setup.settings;
  if (p.stepper == stepper_kind::map) {
    out.dmft_skipped = map_reason;
  } else if (dmft_model.w0 != 0 || dmft_model.b0 != 0) {
    out.dmft_skipped = fmt::format("the DMFT (amari dmft) treats w0 = b0 = 0; this run has w0 = {}, b0 = {}",
                                   format_number(dmft_model.w0), format_number(dmft_model.b0));
  } else {
    try {
      ds.dt_out = p.dt_out;
      ds.tau_max = p.acf_lags() > 0 ? static_cast<double>(p.acf_lags() - 1) * p.dt_out : 20.0;
      ds.lyapunov = true;
      out.dmft_setup.validate();
      out.dmft = solve_dmft(dmft_model, ds);
    } catch (const std::exception& e) {
      out.dmft_skipped = fmt::format("the DMFT failed: {}", e.what());
    }
  }
  return out;
}

}  // namespace amari

#pragma once
// A progress bar on stderr for runs longer than about 2 s: shown only when stderr is a terminal
// and --quiet was not given. Plugs into amari::run_control::progress. The line shows the fraction
// done, the rate (units of `done` per second: samples, grid rows, networks) and the time left.
#include <chrono>
#include <functional>
#include <string>

namespace amari::cli {

class progress_bar {
 public:
  progress_bar(std::string label, bool quiet);
  ~progress_bar();  // clears the line if anything was drawn
  void operator()(double done, double total);
  std::function<void(double, double)> callback() {
    return [this](double d, double t) { (*this)(d, t); };
  }

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  double delay_;  // seconds before the first draw
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace amari::cli

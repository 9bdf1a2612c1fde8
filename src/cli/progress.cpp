#include "progress.hpp"

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <unistd.h>

namespace amari::cli {

namespace {
// Seconds before the bar first appears: 2, or AMARI_PROGRESS_AFTER (for the tests, which show the
// bar of a short run on a pseudo-terminal).
double delay_seconds() {
  if (const char* s = std::getenv("AMARI_PROGRESS_AFTER")) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end != s && *end == '\0' && v >= 0 && v < 1e6) return v;
  }
  return 2.0;
}

std::string human_seconds(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", int(s) / 60, int(s) % 60);
  return fmt::format("{}h{:02d}m", int(s) / 3600, (int(s) % 3600) / 60);
}
}  // namespace

progress_bar::progress_bar(std::string label, bool quiet)
    : label_(std::move(label)), enabled_(!quiet && isatty(STDERR_FILENO)),
      delay_(delay_seconds()), start_(std::chrono::steady_clock::now()), last_(start_) {}

progress_bar::~progress_bar() {
  if (drawn_) std::fputs("\r\033[K", stderr);
}

void progress_bar::operator()(double done, double total) {
  if (!enabled_ || total <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Not before the delay; then at most five times a second.
  if (elapsed < delay_ || (drawn_ && std::chrono::duration<double>(now - last_).count() < 0.2)) return;
  last_ = now;
  const double frac = std::min(1.0, std::max(0.0, done / total));
  const int width = 30, filled = static_cast<int>(frac * width);
  const double rate = done / elapsed;
  const double remaining = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  std::fprintf(stderr, "\r\033[K%s [%s%s] %3.0f%%  %.3g/s  %s left", label_.c_str(),
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), 100 * frac,
               rate, human_seconds(remaining).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace amari::cli

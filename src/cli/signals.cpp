#include "signals.hpp"

#include <csignal>

namespace amari::cli {

namespace {
std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_signal(int sig) {
  // A second Ctrl-C while the first is being honoured falls back to the default action.
  if (g_stop.exchange(sig) != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}
}  // namespace

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

const std::atomic<int>& stop_flag() { return g_stop; }

}  // namespace amari::cli

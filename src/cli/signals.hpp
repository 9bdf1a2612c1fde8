#pragma once
// SIGINT and SIGTERM set a flag that long runs poll at their safe points (amari::run_control).
#include <atomic>

namespace amari::cli {

void install_signal_handlers();
const std::atomic<int>& stop_flag();

}  // namespace amari::cli

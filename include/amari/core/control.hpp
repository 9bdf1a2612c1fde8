#pragma once
// How a long computation reports progress and learns that it should stop.
//
// The library never installs signal handlers; the caller (the CLI) owns a flag that its handler
// sets to the signal number, and long computations look at it at their safe points (after a
// sample is recorded, between grid rows). A computation that writes a file flushes it and marks it
// interrupted before throwing amari::Interrupted.
#include <atomic>
#include <cstdint>
#include <functional>

namespace amari {

struct run_control {
  const std::atomic<int>* stop = nullptr;                   // non-zero: stop at the next safe point
  std::function<void(double done, double total)> progress;  // called at safe points (may be empty)

  int stop_requested() const noexcept { return stop ? stop->load(std::memory_order_relaxed) : 0; }
  void report(double done, double total) const {
    if (progress) progress(done, total);
  }
};

// The memory available to a run now, in bytes (MemAvailable of /proc/meminfo; the maximum of
// uint64 when unknown): what validate() of a large computation compares its estimate with before
// allocating.
std::uint64_t memory_available();

// What a run may plan to use: 9/10 of memory_available(), leaving room for what an estimate leaves
// out (the maximum of uint64 when unknown). A run whose estimate exceeds it is refused.
std::uint64_t memory_usable();

}  // namespace amari

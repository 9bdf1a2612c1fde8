// Ctrl-C and progress for computations that run with the GIL released (bindings.hpp).
#include <csignal>

#include "bindings.hpp"

namespace amari::python {

namespace {
constexpr std::int64_t interval_ns = 100'000'000;  // 0.1 s between looks at Python

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

python_control::python_control(py::object progress)
    : progress_(std::move(progress)), owner_(std::this_thread::get_id()) {}

python_control::~python_control() {
  if (type_ || value_ || trace_) {
    py::gil_scoped_acquire gil;
    Py_XDECREF(type_);
    Py_XDECREF(value_);
    Py_XDECREF(trace_);
  }
}

run_control python_control::control() {
  return run_control{&stop_, [this](double done, double total) { hook(done, total); }};
}

void python_control::hook(double done, double total) {
  if (stop_.load(std::memory_order_relaxed)) return;
  // Rate-limited, except for the last report (a progress bar then shows 100 %).
  const std::int64_t t = now_ns(), last = last_ns_.load(std::memory_order_relaxed);
  if (done < total && t - last < interval_ns) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (done < total && t - last_ns_.load() < interval_ns) return;
  last_ns_.store(t);
  py::gil_scoped_acquire gil;
  // Python runs its signal handlers on the main thread only; the computation reports from the
  // calling thread (a simulation) or from whichever OpenMP thread finished a piece (grids, nets).
  if (std::this_thread::get_id() == owner_ && PyErr_CheckSignals() != 0) {
    PyErr_Fetch(&type_, &value_, &trace_);
    stop_.store(SIGINT);
    return;
  }
  if (progress_.is_none()) return;
  try {
    progress_(done, total);
  } catch (py::error_already_set& e) {
    e.restore();
    PyErr_Fetch(&type_, &value_, &trace_);
    stop_.store(SIGINT);
  }
}

void python_control::rethrow_interrupt(const std::string& message) {
  if (type_) {
    PyErr_Restore(type_, value_, trace_);
    type_ = value_ = trace_ = nullptr;
    throw py::error_already_set();
  }
  PyErr_SetString(PyExc_KeyboardInterrupt, message.c_str());
  throw py::error_already_set();
}

void python_control::check() {
  if (!type_) return;
  PyErr_Restore(type_, value_, trace_);
  type_ = value_ = trace_ = nullptr;
  throw py::error_already_set();
}

}  // namespace amari::python

#pragma once
// The one error family of amari.
//
//   amari::Error            base of everything amari throws
//   ├── InvalidArgument     a bad input value: names the field, the value and what is accepted;
//   │                       the CLI maps it to exit code 2 (usage)
//   ├── NumericalError      a computation that could not reach its accuracy or met a non-finite value
//   ├── IoError             a file that cannot be read, written, or is not what it claims to be
//   └── Interrupted         a run stopped by SIGINT/SIGTERM after saving its state; exit 128 + signal
//
// Messages are one line, written for the user who typed the value.
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace amari {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InvalidArgument : public Error {
 public:
  // "<field> = <value>: <accepted>", e.g. "sigma_w = -1: must be a finite number >= 0".
  InvalidArgument(std::string_view field, std::string_view value, std::string_view accepted);
  // A free-form message, for inputs that are not one field (e.g. conflicting options).
  explicit InvalidArgument(const std::string& message);

  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

class NumericalError : public Error {
 public:
  using Error::Error;
};

class IoError : public Error {
 public:
  using Error::Error;
};

class Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& message) : Error(message), signal_(signal) {}
  int signal() const noexcept { return signal_; }

 private:
  int signal_;
};

// The shortest text that reads back as the same double ("0.1", "1e-12", "inf", "nan").
std::string format_number(double x);

// Throws InvalidArgument unless x is finite (and, with the optional bounds, inside them).
void require_finite(std::string_view field, double x);
void require_nonnegative(std::string_view field, double x);  // finite and >= 0
void require_positive(std::string_view field, double x);     // finite and > 0
void require_in_range(std::string_view field, double x, double lo, double hi);  // finite, lo <= x <= hi
// An integer in [lo, hi]: "replicas = 0: must be an integer in [1, 4096]".
void require_int_range(std::string_view field, std::int64_t v, std::int64_t lo, std::int64_t hi);

}  // namespace amari

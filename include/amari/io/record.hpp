#pragma once
// A product's results as named values: what `amari <command> --json` prints and what the Python
// module returns, built by one function per product (io/layout/<product>.hpp, to_record), so
// that the two agree key for key and bit for bit. The keys are the JSON keys of docs/FORMAT.md
// and, where the file has one, the dataset's name.
//
// Undefined scalars are null (JSON null, Python None); in arrays of numbers, undefined is NaN
// (JSON null, a NaN element in numpy) or -1 for integer counts.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "amari/core/params.hpp"

namespace amari::io {

struct value;

struct record {
  std::vector<std::string> keys;
  std::vector<value> values;

  // Appends (or replaces) `key`.
  record& add(std::string key, value v);
  const value* find(std::string_view key) const;
  void erase(std::string_view key);  // no-op when absent
  std::size_t size() const { return keys.size(); }
};

struct value {
  using array = std::vector<value>;
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, std::vector<double>,
               std::vector<std::int64_t>, std::vector<std::string>, array, record>
      v;

  value() : v(nullptr) {}
  value(std::nullptr_t) : v(nullptr) {}
  value(bool x) : v(x) {}
  value(int x) : v(static_cast<std::int64_t>(x)) {}
  value(std::int64_t x) : v(x) {}
  value(std::size_t x) : v(static_cast<std::int64_t>(x)) {}
  value(double x) : v(x) {}  // a NaN or infinite scalar is written as null
  value(const char* x) : v(std::string(x)) {}
  value(std::string x) : v(std::move(x)) {}
  value(std::string_view x) : v(std::string(x)) {}
  value(std::vector<double> x) : v(std::move(x)) {}
  value(std::vector<std::int64_t> x) : v(std::move(x)) {}
  value(std::vector<std::string> x) : v(std::move(x)) {}
  value(array x) : v(std::move(x)) {}
  value(record x) : v(std::move(x)) {}
  template <class T>
  value(const std::optional<T>& x) : value(x ? value(*x) : value(nullptr)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v); }
};

// A record as bytes and back, exactly (every double bit for bit, NaN included): how a record
// travels between processes (the ranks of an MPI sweep). Little-endian, not a file format.
std::string encode(const record& r);
// InvalidArgument when `bytes` is not what encode() wrote.
record decode(std::string_view bytes);

// A parameter value as a record value (lists as arrays of numbers).
value from_param(const param_value& p);

// The parameters of role `model` (what the result depends on) of a command's table, in its order.
template <class P>
record params_record(const param_table<P>& t, const P& p) {
  record r;
  for (const auto& e : t.entries())
    if (e.spec->role == param_role::model) r.add(std::string(e.spec->name), from_param(e.get(p)));
  return r;
}

}  // namespace amari::io

// Named results (include/amari/io/record.hpp).
#include "amari/io/record.hpp"

#include <algorithm>

namespace amari::io {

record& record::add(std::string key, value v) {
  const auto it = std::find(keys.begin(), keys.end(), key);
  if (it != keys.end()) {
    values[static_cast<std::size_t>(it - keys.begin())] = std::move(v);
  } else {
    keys.push_back(std::move(key));
    values.push_back(std::move(v));
  }
  return *this;
}

const value* record::find(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &values[i];
  return nullptr;
}

void record::erase(std::string_view key) {
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) {
      keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(i));
      values.erase(values.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
}

value from_param(const param_value& p) {
  return std::visit([](const auto& x) { return value(x); }, p);
}

}  // namespace amari::io

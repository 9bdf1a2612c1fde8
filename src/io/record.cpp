// Named results (include/amari/io/record.hpp).
#include "amari/io/record.hpp"

#include <algorithm>
#include <cstring>

#include "amari/core/error.hpp"

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

namespace {

// One byte of kind (the index of the variant's alternative), then the payload; sizes as uint64.
template <class T>
void put(std::string& out, const T& x) {
  char b[sizeof(T)];
  std::memcpy(b, &x, sizeof(T));
  out.append(b, sizeof(T));
}
void put_text(std::string& out, const std::string& s) {
  put(out, static_cast<std::uint64_t>(s.size()));
  out += s;
}
void put_value(std::string& out, const value& v);
void put_record(std::string& out, const record& r) {
  put(out, static_cast<std::uint64_t>(r.size()));
  for (std::size_t i = 0; i < r.size(); ++i) {
    put_text(out, r.keys[i]);
    put_value(out, r.values[i]);
  }
}
void put_value(std::string& out, const value& v) {
  out += static_cast<char>(v.v.index());
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
        } else if constexpr (std::is_same_v<T, bool>) {
          out += static_cast<char>(x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
          put(out, x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          put_text(out, x);
        } else if constexpr (std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<std::int64_t>>) {
          put(out, static_cast<std::uint64_t>(x.size()));
          for (const auto& e : x) put(out, e);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          put(out, static_cast<std::uint64_t>(x.size()));
          for (const auto& e : x) put_text(out, e);
        } else if constexpr (std::is_same_v<T, value::array>) {
          put(out, static_cast<std::uint64_t>(x.size()));
          for (const auto& e : x) put_value(out, e);
        } else {
          put_record(out, x);
        }
      },
      v.v);
}

struct reader {
  std::string_view in;
  std::size_t at = 0;
  void need(std::size_t n) const {
    if (in.size() - at < n) throw InvalidArgument("record: the bytes end early (not written by io::encode)");
  }
  template <class T>
  T get() {
    need(sizeof(T));
    T x;
    std::memcpy(&x, in.data() + at, sizeof(T));
    at += sizeof(T);
    return x;
  }
  std::uint64_t size() {
    const auto n = get<std::uint64_t>();
    if (n > in.size()) throw InvalidArgument("record: a size larger than the bytes (not written by io::encode)");
    return n;
  }
  std::string text() {
    const auto n = size();
    need(n);
    std::string s(in.substr(at, n));
    at += n;
    return s;
  }
  record rec() {
    record r;
    const auto n = size();
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string k = text();
      r.add(std::move(k), val());
    }
    return r;
  }
  value val() {
    switch (get<char>()) {
      case 0: return value(nullptr);
      case 1: return value(get<char>() != 0);
      case 2: return value(get<std::int64_t>());
      case 3: return value(get<double>());
      case 4: return value(text());
      case 5: {
        std::vector<double> x(size());
        for (auto& e : x) e = get<double>();
        return value(std::move(x));
      }
      case 6: {
        std::vector<std::int64_t> x(size());
        for (auto& e : x) e = get<std::int64_t>();
        return value(std::move(x));
      }
      case 7: {
        std::vector<std::string> x(size());
        for (auto& e : x) e = text();
        return value(std::move(x));
      }
      case 8: {
        value::array x(size());
        for (auto& e : x) e = val();
        return value(std::move(x));
      }
      case 9: return value(rec());
      default: throw InvalidArgument("record: an unknown kind of value (not written by io::encode)");
    }
  }
};

}  // namespace

std::string encode(const record& r) {
  std::string out;
  put_record(out, r);
  return out;
}

record decode(std::string_view bytes) {
  reader rd{bytes};
  record r = rd.rec();
  if (rd.at != bytes.size()) throw InvalidArgument("record: bytes left after the record (not written by io::encode)");
  return r;
}

value from_param(const param_value& p) {
  return std::visit([](const auto& x) { return value(x); }, p);
}

}  // namespace amari::io

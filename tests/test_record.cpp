// io::encode / io::decode (io/record.hpp): a record survives the trip through bytes exactly.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "amari/core/error.hpp"
#include "amari/io/record.hpp"

namespace {
std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, 8);
  return b;
}
}  // namespace

TEST_CASE("record bytes: every kind of value round-trips bit for bit", "[record]") {
  using amari::io::record;
  using amari::io::value;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  record inner;
  inner.add("m", 0.1).add("stable", true);
  record r;
  r.add("none", nullptr)
      .add("flag", false)
      .add("count", std::int64_t{-7})
      .add("x", 1.0 / 3.0)
      .add("nan", nan)
      .add("phase", "chaotic")
      .add("q", std::vector<double>{0.5, -0.0, nan, std::numeric_limits<double>::infinity(), 5e-324})
      .add("ints", std::vector<std::int64_t>{1, -1, 1LL << 62})
      .add("words", std::vector<std::string>{"a", "", "tanh:g=2"})
      .add("nested", value::array{value(1.5), value(std::vector<double>{2, 3}), value(inner)})
      .add("sub", inner)
      .add("empty", std::vector<double>{});
  const std::string bytes = amari::io::encode(r);
  const record back = amari::io::decode(bytes);
  REQUIRE(back.keys == r.keys);
  CHECK(back.find("none")->is_null());
  CHECK(std::get<bool>(back.find("flag")->v) == false);
  CHECK(std::get<std::int64_t>(back.find("count")->v) == -7);
  CHECK(bits(std::get<double>(back.find("x")->v)) == bits(1.0 / 3.0));
  CHECK(bits(std::get<double>(back.find("nan")->v)) == bits(nan));
  CHECK(std::get<std::string>(back.find("phase")->v) == "chaotic");
  const auto& q = std::get<std::vector<double>>(back.find("q")->v);
  const auto& q0 = std::get<std::vector<double>>(r.find("q")->v);
  REQUIRE(q.size() == q0.size());
  for (std::size_t i = 0; i < q.size(); ++i) CHECK(bits(q[i]) == bits(q0[i]));
  CHECK(std::get<std::vector<std::int64_t>>(back.find("ints")->v) == std::vector<std::int64_t>{1, -1, 1LL << 62});
  CHECK(std::get<std::vector<std::string>>(back.find("words")->v) == std::vector<std::string>{"a", "", "tanh:g=2"});
  const auto& nested = std::get<value::array>(back.find("nested")->v);
  REQUIRE(nested.size() == 3);
  CHECK(std::get<double>(nested[0].v) == 1.5);
  CHECK(std::get<std::vector<double>>(nested[1].v) == std::vector<double>{2, 3});
  CHECK(std::get<double>(std::get<record>(nested[2].v).find("m")->v) == 0.1);
  CHECK(std::get<bool>(std::get<record>(back.find("sub")->v).find("stable")->v));
  CHECK(std::get<std::vector<double>>(back.find("empty")->v).empty());
  // Encoding the decoded record gives the same bytes.
  CHECK(amari::io::encode(back) == bytes);
  // Damaged bytes are refused, not misread.
  CHECK_THROWS_AS(amari::io::decode(bytes.substr(0, bytes.size() - 1)), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::io::decode(bytes + "x"), amari::InvalidArgument);
}

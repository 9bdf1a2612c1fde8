// The superblock guard of the store (src/io/store/superblock.hpp): the store writes the
// end-of-allocation address into HDF5's version-2 superblock by hand before each flush, which
// depends on HDF5's on-disk format and on what H5Fflush does. These tests pin the HDF5 release it
// was verified on, and check what it does to the file against the format specification (the
// superblock is parsed here independently of the store's code).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "amari/io/store.hpp"
#include "io/store/superblock.hpp"
#include "store_test_util.hpp"

namespace st = amari::store;
namespace detail = amari::store::detail;
using amari::test::read_bytes;
using amari::test::temp_dir;

namespace {

// A version-2 superblock as the HDF5 file format specification lays it out ("Superblock", format
// version 2; 48 bytes, all little-endian).
struct superblock_v2 {
  unsigned version = 0, offset_size = 0, length_size = 0;
  std::uint64_t base = 0, eoa = 0;
  std::uint32_t checksum = 0;
  std::vector<unsigned char> bytes;
};

std::uint64_t le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

superblock_v2 read_superblock(const std::string& path) {
  const std::string all = read_bytes(path);
  REQUIRE(all.size() >= 48);
  superblock_v2 s;
  s.bytes.assign(all.begin(), all.begin() + 48);
  const unsigned char* b = s.bytes.data();
  REQUIRE(std::memcmp(b, "\x89HDF\r\n\x1a\n", 8) == 0);
  s.version = b[8];
  s.offset_size = b[9];
  s.length_size = b[10];
  s.base = le(b + 12, 8);
  s.eoa = le(b + 28, 8);
  s.checksum = static_cast<std::uint32_t>(le(b + 44, 4));
  return s;
}

}  // namespace

TEST_CASE("the superblock guard is pinned to the HDF5 release it was verified on", "[store][superblock]") {
  // Update superblock_verified_hdf5 only after the steps in src/io/store/superblock.hpp.
  const detail::hdf5_version v = detail::runtime_hdf5_version();
  const detail::hdf5_version pin = detail::superblock_verified_hdf5;
  INFO(fmt::format("HDF5 in use: {}.{}.{}; superblock guard verified on: {}.{}.{}", v.major, v.minor, v.release,
                   pin.major, pin.minor, pin.release));
  if (!(v == pin))
    FAIL(fmt::format("this build runs with HDF5 {0}.{1}.{2}, but the hand-written superblock patch "
                     "(src/io/store/superblock.hpp) was verified on HDF5 {3}.{4}.{5}: re-verify the superblock "
                     "patch against HDF5 {0}.{1}.{2}, then update this pin (superblock_verified_hdf5)",
                     v.major, v.minor, v.release, pin.major, pin.minor, pin.release));
  CHECK(v == pin);
}

TEST_CASE("lookup3 reproduces Jenkins' published values", "[store][superblock]") {
  // The values printed by the driver of Bob Jenkins' lookup3.c (hashlittle, initial value 0).
  const std::string four = "Four score and seven years ago";
  CHECK(detail::lookup3(reinterpret_cast<const unsigned char*>(four.data()), four.size()) == 0x17770551u);
  CHECK(detail::lookup3(reinterpret_cast<const unsigned char*>(""), 0) == 0xdeadbeefu);
}

TEST_CASE("after each flush the superblock is version 2, its checksum ours, its end of file the file's end",
          "[store][superblock]") {
  temp_dir dir;
  const std::string path = dir / "sb.h5";
  st::file_options o;
  o.product = "test";
  auto f = st::file::create(path, o);
  auto g = f.group_at("/trajectory");
  auto t = g.make_series_scale("t", {.description = "time"});
  auto h = g.make_series("h", {50}, {.description = "rows"});
  std::uint64_t last_eoa = 0;
  for (int flush = 1; flush <= 20; ++flush) {
    for (int k = 0; k < 37; ++k) {
      t.append(flush * 100.0 + k);
      h.append(std::vector<double>(50, std::sin(flush + 0.1 * k)));
    }
    f.checkpoint().write("state", std::vector<double>(64, flush));
    f.flush();
    INFO("flush " << flush);
    CHECK(f.last_flush_hardened());
    const superblock_v2 sb = read_superblock(path);
    REQUIRE(sb.version == 2);  // library-version bounds [1.8, 1.10] (docs/FORMAT.md, Crash safety)
    REQUIRE(sb.offset_size == 8);
    REQUIRE(sb.length_size == 8);
    // The checksum on disk is the one our lookup3 computes: the guard recognises the superblock.
    CHECK(detail::lookup3(sb.bytes.data(), 44) == sb.checksum);
    // The stored end of file is exactly the file's length: past everything this flush references,
    // and not beyond the file (a plain open refuses a "truncated file").
    CHECK(sb.base + sb.eoa == std::filesystem::file_size(path));
    // It grows with the data (the 8-byte guard after each flush keeps new space past the old end).
    CHECK(sb.eoa > last_eoa);
    last_eoa = sb.eoa;
  }
  f.finish("complete");
  f.close();
  // The file opens, with every row.
  auto r = st::file::open_read(path);
  CHECK(r.group_at("/trajectory").shape("h") == std::vector<std::uint64_t>{20 * 37, 50});
}

TEST_CASE("raise_stored_eoa: extends the file and rewrites the address and checksum, declines what it "
          "does not recognise",
          "[store][superblock]") {
  temp_dir dir;
  const std::string path = dir / "sb.h5";
  {
    auto f = st::file::create(path, {.product = "test"});
    f.group_at("/results").write("x", std::vector<double>{1, 2, 3}, {.description = "x"});
    f.finish("complete");
  }
  const superblock_v2 before = read_superblock(path);
  const auto size = std::filesystem::file_size(path);
  REQUIRE(before.base + before.eoa == size);

  SECTION("a larger end: the file grows to it and the superblock says so, with a valid checksum") {
    const int fd = ::open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    CHECK(detail::raise_stored_eoa(fd, before.eoa + 4096));
    ::close(fd);
    const superblock_v2 after = read_superblock(path);
    CHECK(after.eoa == before.eoa + 4096);
    CHECK(std::filesystem::file_size(path) == size + 4096);
    CHECK(detail::lookup3(after.bytes.data(), 44) == after.checksum);
    CHECK(std::memcmp(after.bytes.data(), before.bytes.data(), 28) == 0);  // nothing else changed
    CHECK(std::memcmp(after.bytes.data() + 36, before.bytes.data() + 36, 8) == 0);
    // HDF5 reads the patched file.
    auto r = st::file::open_read(path);
    CHECK(r.group_at("/results").read_doubles("x") == std::vector<double>{1, 2, 3});
  }
  SECTION("a smaller or equal end: nothing is written") {
    const std::string bytes = read_bytes(path);
    const int fd = ::open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    CHECK(detail::raise_stored_eoa(fd, before.eoa));
    CHECK(detail::raise_stored_eoa(fd, before.eoa - 1));
    ::close(fd);
    CHECK(read_bytes(path) == bytes);
  }
  SECTION("a checksum it does not reproduce, or another superblock version: declined, nothing written") {
    for (int byte : {44, 8}) {
      std::string bytes = read_bytes(path);
      bytes[byte] = static_cast<char>(bytes[byte] ^ 0x01);
      { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes; }
      const int fd = ::open(path.c_str(), O_RDWR);
      REQUIRE(fd >= 0);
      INFO("byte " << byte << " altered");
      CHECK_FALSE(detail::raise_stored_eoa(fd, before.eoa + 4096));
      ::close(fd);
      CHECK(read_bytes(path) == bytes);
      bytes[byte] = static_cast<char>(bytes[byte] ^ 0x01);
      { std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes; }
    }
  }
}

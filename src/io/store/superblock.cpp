// The superblock guard: the end-of-allocation address written into the superblock ahead of a flush
// (what it depends on, and the HDF5 version it is pinned to: superblock.hpp).
#include "superblock.hpp"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace amari::store::detail {

hdf5_version runtime_hdf5_version() {
  hdf5_version v;
  if (H5get_libversion(&v.major, &v.minor, &v.release) < 0) return {};
  return v;
}

// Bob Jenkins' lookup3 hash ("hashlittle", byte-wise form; public domain, 2006), which the HDF5 file
// format uses as the checksum of version-2 superblocks (HDF5 file format specification, "Superblock
// Checksum"). Written here because HDF5 does not export it; checked against the stored checksum of
// the file's own superblock before it is ever used to write one.
std::uint32_t lookup3(const unsigned char* k, std::size_t length) {
  auto rot = [](std::uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  std::uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + static_cast<std::uint32_t>(length);
  auto word = [&](std::size_t i) {
    return std::uint32_t(k[i]) | std::uint32_t(k[i + 1]) << 8 | std::uint32_t(k[i + 2]) << 16 |
           std::uint32_t(k[i + 3]) << 24;
  };
  while (length > 12) {
    a += word(0);
    b += word(4);
    c += word(8);
    a -= c; a ^= rot(c, 4);  c += b;
    b -= a; b ^= rot(a, 6);  a += c;
    c -= b; c ^= rot(b, 8);  b += a;
    a -= c; a ^= rot(c, 16); c += b;
    b -= a; b ^= rot(a, 19); a += c;
    c -= b; c ^= rot(b, 4);  b += a;
    length -= 12;
    k += 12;
  }
  if (length == 0) return c;
  std::uint32_t tail[3] = {0, 0, 0};
  for (std::size_t i = 0; i < length; ++i) tail[i / 4] |= std::uint32_t(k[i]) << (8 * (i % 4));
  a += tail[0];
  b += tail[1];
  c += tail[2];
  c ^= b; c -= rot(b, 14);
  a ^= c; a -= rot(c, 11);
  b ^= a; b -= rot(a, 25);
  c ^= b; c -= rot(b, 16);
  a ^= c; a -= rot(c, 4);
  b ^= a; b -= rot(a, 14);
  c ^= b; c -= rot(b, 24);
  return c;
}

namespace {
std::uint64_t le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void put_le(unsigned char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
}  // namespace

bool raise_stored_eoa(int fd, std::uint64_t eoa) {
  unsigned char sb[48];
  if (::pread(fd, sb, sizeof sb, 0) != static_cast<ssize_t>(sizeof sb)) return false;
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (std::memcmp(sb, signature, 8) != 0 || sb[8] != 2 || sb[9] != 8 || sb[10] != 8) return false;
  const std::uint32_t stored = std::uint32_t(sb[44]) | std::uint32_t(sb[45]) << 8 | std::uint32_t(sb[46]) << 16 |
                               std::uint32_t(sb[47]) << 24;
  if (lookup3(sb, 44) != stored) return false;
  const std::uint64_t base = le64(sb + 12);
  if (le64(sb + 28) >= eoa) return true;
  struct stat st{};
  if (::fstat(fd, &st) != 0) return false;
  if (static_cast<std::uint64_t>(st.st_size) < base + eoa &&
      ::ftruncate(fd, static_cast<off_t>(base + eoa)) != 0)
    return false;
  put_le(sb + 28, eoa, 8);
  put_le(sb + 44, lookup3(sb, 44), 4);
  return ::pwrite(fd, sb, sizeof sb, 0) == static_cast<ssize_t>(sizeof sb);
}

}  // namespace amari::store::detail

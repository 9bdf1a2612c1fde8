#pragma once
// The superblock guard (src/io/store/superblock.cpp): the store writes the end-of-allocation
// address into the HDF5 superblock itself, just before H5Fflush (file_state::flush, file.cpp).
//
// Why: HDF5 writes the superblock last in a flush, so a kill in the middle of a flush could leave a
// chunk index on disk that points past the stored end of the file, and readers then refuse the
// whole dataset ("addr overflow"). docs/store.md ("Superblock written last") has the measurements.
//
// What it depends on, none of which HDF5 promises as API:
//   - the on-disk layout of a version-2 superblock (HDF5 file format specification, "Superblock",
//     format version 2): signature (8 bytes), version (1), size of offsets (1), size of lengths (1),
//     flags (1), base address (8, at byte 12), superblock extension address (8, at 20), end of file
//     address (8, at 28), root group object header address (8, at 36), checksum (4, at 44): 48 bytes;
//   - the checksum being Jenkins' lookup3 over the first 44 bytes with initial value 0;
//   - H5Fflush writing the superblock last and truncating the file to its end of allocation, and
//     H5Fget_vfd_handle of the default (sec2) driver returning a pointer to the file descriptor.
// If any of these change, raise_stored_eoa either declines (a layout or checksum it does not
// recognise: file::last_flush_hardened() turns false) or, worse, writes a wrong address.
//
// The pin: superblock_verified_hdf5 is the HDF5 release on which all of this was verified.
// tests/test_store_superblock.cpp fails when the HDF5 library the tests run with is another one.
// To re-verify against a new release:
//   1. check the specification of superblock version 2 and the lookup3 checksum for changes;
//   2. build and run the Release suite: tests/test_store_superblock.cpp checks the checksum and,
//      after flushes, that the stored end address is the file's length and the file opens;
//      test_store.cpp checks last_flush_hardened() and the SIGKILL test;
//   3. run tests/stress_store_kill.py with many kills (e.g. 2000) and compare with
//      docs/FORMAT.md ("Crash safety"): no kill may leave a file or dataset that does not open;
//   4. then set superblock_verified_hdf5 to the new release (and say so in the commit).
// This header does not include HDF5 (the test above includes it).
#include <cstddef>
#include <cstdint>

namespace amari::store::detail {

struct hdf5_version {
  unsigned major = 0, minor = 0, release = 0;
  friend bool operator==(const hdf5_version&, const hdf5_version&) = default;
};

// The HDF5 release the superblock guard was verified on (Debian 12: libhdf5-dev 1.10.8+repack1-1).
inline constexpr hdf5_version superblock_verified_hdf5{1, 10, 8};

// The HDF5 library in use at run time (H5get_libversion).
hdf5_version runtime_hdf5_version();

// Bob Jenkins' lookup3 hash ("hashlittle", initial value 0), the checksum of a version-2 superblock.
std::uint32_t lookup3(const unsigned char* k, std::size_t length);

// Sets the end-of-allocation address stored in the version-2 superblock of the open file `fd` to
// at least `eoa` (relative to the base address), after extending the file to that length. Returns
// false, changing nothing, if the superblock is not the expected version 2 with 8-byte addresses and
// a checksum that lookup3 reproduces.
bool raise_stored_eoa(int fd, std::uint64_t eoa);

}  // namespace amari::store::detail

#include "amari/control.hpp"

#include <fstream>
#include <limits>
#include <string>

namespace amari {

std::uint64_t memory_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024;
  }
  return std::numeric_limits<std::uint64_t>::max();
}

}  // namespace amari

#include "amari/core/control.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <string>

namespace amari {

std::uint64_t memory_available() {
  std::uint64_t available = std::numeric_limits<std::uint64_t>::max();
  {
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    std::uint64_t value = 0;
    while (in >> key >> value) {
      std::getline(in, unit);
      if (key == "MemAvailable:") {
        available = value * 1024;
        break;
      }
    }
  }
  // In a container the cgroup's limit (v2: memory.max, "max" when unlimited; v1:
  // memory.limit_in_bytes) minus what the group already uses can be the smaller bound.
  auto read_number = [](const char* path, std::uint64_t& out) {
    std::ifstream in(path);
    return static_cast<bool>(in >> out);
  };
  std::uint64_t limit = 0, used = 0;
  if (read_number("/sys/fs/cgroup/memory.max", limit) || read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes", limit)) {
    if (!read_number("/sys/fs/cgroup/memory.current", used)) read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes", used);
    if (limit > used) available = std::min(available, limit - used);
  }
  return available;
}

std::uint64_t memory_usable() {
  const std::uint64_t have = memory_available();
  return have == std::numeric_limits<std::uint64_t>::max() ? have : have / 10 * 9;
}

}  // namespace amari

#pragma once
// Access to the independent reference values in ../shared/reference (see its README).
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace amari::test {

inline nlohmann::json load_reference(const std::string& file) {
  const std::string path = std::string(AMARI_REFERENCE_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open reference file " + path);
  return nlohmann::json::parse(in);
}

}  // namespace amari::test

// Arrays from files (include/amari/io/arrays.hpp).
#include "amari/io/arrays.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iterator>

#include "amari/core/error.hpp"
#include "amari/io/store.hpp"

namespace amari {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The .npy header dict, e.g. {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }.
struct npy_header {
  std::string descr;
  bool fortran = false;
  std::vector<std::int64_t> shape;
};

npy_header parse_npy_header(const std::string& field, const std::string& spec, const std::string& h) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(field, spec, fmt::format("is not a readable .npy file: {}", why));
  };
  auto value_of = [&](const char* key) -> std::size_t {
    const std::size_t k = h.find(key);
    if (k == std::string::npos) throw bad(fmt::format("its header has no {}", key));
    std::size_t i = h.find(':', k + std::strlen(key));
    if (i == std::string::npos) throw bad(fmt::format("its header has no value for {}", key));
    ++i;
    while (i < h.size() && h[i] == ' ') ++i;
    return i;
  };
  npy_header out;
  {
    std::size_t i = value_of("'descr'");
    if (i >= h.size() || (h[i] != '\'' && h[i] != '"')) throw bad("its 'descr' is not a simple type (a structured array?)");
    const char quote = h[i];
    const std::size_t end = h.find(quote, i + 1);
    if (end == std::string::npos) throw bad("its 'descr' is not closed");
    out.descr = h.substr(i + 1, end - i - 1);
  }
  {
    const std::size_t i = value_of("'fortran_order'");
    if (h.compare(i, 4, "True") == 0)
      out.fortran = true;
    else if (h.compare(i, 5, "False") == 0)
      out.fortran = false;
    else
      throw bad("its 'fortran_order' is neither True nor False");
  }
  {
    std::size_t i = value_of("'shape'");
    if (i >= h.size() || h[i] != '(') throw bad("its 'shape' is not a tuple");
    const std::size_t end = h.find(')', i);
    if (end == std::string::npos) throw bad("its 'shape' is not closed");
    std::string body = h.substr(i + 1, end - i - 1);
    std::size_t pos = 0;
    while (pos < body.size()) {
      while (pos < body.size() && (body[pos] == ' ' || body[pos] == ',')) ++pos;
      if (pos >= body.size()) break;
      std::size_t q = pos;
      while (q < body.size() && body[q] >= '0' && body[q] <= '9') ++q;
      if (q == pos) throw bad(fmt::format("its 'shape' ({}) is not a tuple of integers", body));
      const std::string digits = body.substr(pos, q - pos);
      if (digits.size() > 12) throw bad(fmt::format("its 'shape' ({}) is too large", body));
      out.shape.push_back(std::stoll(digits));
      if (q < body.size() && body[q] == 'L') ++q;  // Python 2 longs
      pos = q;
    }
  }
  return out;
}

// Little-endian float64 or float32 bytes to doubles, whatever the machine's order.
void decode(const char* p, std::uint64_t count, std::size_t item, double* out) {
  for (std::uint64_t k = 0; k < count; ++k) {
    std::uint64_t bits = 0;
    for (std::size_t b = 0; b < item; ++b) bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[k * item + b])) << (8 * b);
    if (item == 8) {
      double x;
      std::memcpy(&x, &bits, 8);
      out[k] = x;
    } else {
      const auto b32 = static_cast<std::uint32_t>(bits);
      float x;
      std::memcpy(&x, &b32, 4);
      out[k] = static_cast<double>(x);
    }
  }
}

// The rows `rows` of the first dimension (all when rows.count < 0), without reading the others
// (C order; a Fortran-order array is read whole and its rows kept).
array_data read_npy(const std::string& field, const std::string& spec, row_range rows) {
  array_data a;
  a.spec = spec, a.path = spec;
  std::ifstream in(spec, std::ios::binary);
  if (!in) throw InvalidArgument(field, spec, "cannot be opened for reading (no such file, or no permission)");
  auto bad = [&](const std::string& why) {
    return InvalidArgument(field, spec, fmt::format("is not a readable .npy file: {}", why));
  };
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  auto read_at = [&](std::uint64_t at, std::uint64_t length) {
    std::string bytes(static_cast<std::size_t>(length), '\0');
    in.seekg(static_cast<std::streamoff>(at));
    if (!in.read(bytes.data(), static_cast<std::streamsize>(length))) throw bad("it is truncated");
    return bytes;
  };
  if (file_size < 10) throw bad("it does not start with \\x93NUMPY");
  const std::string lead = read_at(0, std::min<std::uint64_t>(file_size, 12));
  if (lead.compare(0, 6, "\x93NUMPY") != 0) throw bad("it does not start with \\x93NUMPY");
  const auto major = static_cast<unsigned char>(lead[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(lead[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(lead[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (lead.size() < 12) throw bad("it is truncated");
    for (int k = 0; k < 4; ++k) header_len |= static_cast<std::size_t>(static_cast<unsigned char>(lead[8 + k])) << (8 * k);
    offset = 12;
  } else {
    throw bad(fmt::format("format version {} (amari reads 1, 2 and 3)", major));
  }
  if (file_size < offset + header_len) throw bad("its header is truncated");
  const npy_header h = parse_npy_header(field, spec, read_at(offset, header_len));
  std::size_t item = 0;
  if (h.descr == "<f8") {
    item = 8, a.dtype = "float64";
  } else if (h.descr == "<f4") {
    item = 4, a.dtype = "float32";
  } else {
    throw InvalidArgument(field, spec,
                          fmt::format("has dtype '{}': amari reads little-endian float64 ('<f8') or float32 ('<f4') "
                                      "(convert with numpy's astype(np.float64))",
                                      h.descr));
  }
  a.shape = h.shape;
  std::uint64_t count = 1;
  for (auto d : h.shape) count *= static_cast<std::uint64_t>(d);
  const std::uint64_t data_at = offset + header_len;
  if (file_size - data_at != count * item)
    throw bad(fmt::format("its shape ({} entries of {} bytes) does not match its {} bytes of data", count, item,
                          file_size - data_at));
  // The rows wanted, of `per_row` numbers each.
  const std::uint64_t rows_all = h.shape.empty() ? 1 : static_cast<std::uint64_t>(h.shape[0]);
  const std::uint64_t per_row = rows_all == 0 ? 0 : count / rows_all;
  const std::uint64_t first = rows.count < 0 ? 0 : static_cast<std::uint64_t>(rows.first);
  const std::uint64_t take = rows.count < 0 ? rows_all : static_cast<std::uint64_t>(rows.count);
  if (first + take > rows_all)
    throw InvalidArgument(field, spec, fmt::format("has {} rows: rows [{}, {}) do not exist", rows_all, first, first + take));
  a.first_row = static_cast<std::int64_t>(first);
  a.values.resize(take * per_row);
  if (take == 0) return a;
  // `n` items from the byte offset `at` into out, decoded in chunks of at most 2^23 items (64 MB of
  // float64), so that the bytes never take as much memory as the numbers.
  std::string bytes;
  auto read_items = [&](std::uint64_t at, std::uint64_t n, double* out) {
    constexpr std::uint64_t chunk = std::uint64_t{1} << 23;
    for (std::uint64_t k = 0; k < n; k += chunk) {
      const std::uint64_t m = std::min(chunk, n - k);
      bytes.resize(static_cast<std::size_t>(m * item));
      in.seekg(static_cast<std::streamoff>(at + k * item));
      if (!in.read(bytes.data(), static_cast<std::streamsize>(m * item))) throw bad("it is truncated");
      decode(bytes.data(), m, item, out + k);
    }
  };
  if (!h.fortran || h.shape.size() < 2) {
    read_items(data_at + first * per_row * item, take * per_row, a.values.data());
    return a;
  }
  // Fortran order: the first index varies fastest, so the rows wanted are one run of `take` items
  // for each combination of the other indices (counted with the second index fastest); each run
  // goes to its column of the C-order rows.
  const std::size_t nd = h.shape.size();
  std::vector<std::int64_t> idx(nd, 0);  // idx[1..]: the other indices of run c
  std::vector<double> run(static_cast<std::size_t>(take));
  for (std::uint64_t c = 0; c < per_row; ++c) {
    std::uint64_t col = 0;  // the C-order offset of these indices within a row
    for (std::size_t d = 1; d < nd; ++d) col = col * static_cast<std::uint64_t>(h.shape[d]) + static_cast<std::uint64_t>(idx[d]);
    read_items(data_at + (c * rows_all + first) * item, take, run.data());
    for (std::uint64_t i = 0; i < take; ++i) a.values[i * per_row + col] = run[i];
    for (std::size_t d = 1; d < nd; ++d) {
      if (++idx[d] < h.shape[d]) break;
      idx[d] = 0;
    }
  }
  return a;
}

array_data read_hdf5(const std::string& field, const std::string& spec, row_range rows) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw InvalidArgument(field, spec,
                          fmt::format("must be FILE:DATASET (an HDF5 file) or FILE.npy, e.g. {}",
                                      field == "h0" ? "run.h5:/trajectory/h_final" : "net.h5:/network/W"));
  array_data a;
  a.spec = spec, a.path = spec.substr(0, colon), a.dataset = spec.substr(colon + 1);
  if (ends_with(a.path, ".npy"))
    throw InvalidArgument(field, spec, "names a dataset of a .npy file, which holds one array: give FILE.npy alone");
  try {
    auto f = store::file::open_read_hdf5(a.path);
    const std::string abs = a.dataset.front() == '/' ? a.dataset : "/" + a.dataset;
    if (!f.has(abs)) throw InvalidArgument(field, spec, fmt::format("{} has no dataset {}", a.path, a.dataset));
    const store::object_info info = f.info(abs);
    if (info.is_group) throw InvalidArgument(field, spec, fmt::format("{} is a group, not a dataset", a.dataset));
    if (info.type != "float64" && info.type != "float32")
      throw InvalidArgument(field, spec,
                            fmt::format("has type {}: amari reads datasets of float64 or float32", info.type));
    a.dtype = info.type;
    for (auto d : info.shape) a.shape.push_back(static_cast<std::int64_t>(d));
    const auto slash = abs.rfind('/');
    auto g = f.group_at(slash == 0 ? "/" : abs.substr(0, slash));
    const std::uint64_t rows_all = info.shape.empty() ? 1 : info.shape[0];
    if (rows.count < 0 || info.shape.empty()) {
      a.values = g.read_doubles(abs.substr(slash + 1));
    } else {
      if (static_cast<std::uint64_t>(rows.first + rows.count) > rows_all)
        throw InvalidArgument(field, spec, fmt::format("has {} rows: rows [{}, {}) do not exist", rows_all, rows.first,
                                                       rows.first + rows.count));
      a.values = g.read_rows(abs.substr(slash + 1), static_cast<std::uint64_t>(rows.first),
                             static_cast<std::uint64_t>(rows.count));
      a.first_row = rows.first;
    }
  } catch (const IoError& e) {
    throw InvalidArgument(field, spec, fmt::format("cannot be read as a dataset of numbers: {}", e.what()));
  }
  return a;
}

}  // namespace

array_data read_array(const std::string& field, const std::string& spec, row_range rows) {
  if (ends_with(spec, ".npy")) return read_npy(field, spec, rows);
  return read_hdf5(field, spec, rows);
}

weights_summary weights_summary_of(const std::string& weights_spec, bool moments) {
  // (blocks of about 2^24 numbers: 128 MB)
  constexpr std::int64_t block = std::int64_t{1} << 24;
  const array_data head = read_array("weights", weights_spec, {0, 0});
  std::int64_t entries = 1;
  for (auto d : head.shape) entries *= d;
  weights_summarizer s(entries);
  for_each_row_block("weights", weights_spec, block, [&](const array_data& a) {
    s.first(a.values.data(), static_cast<std::int64_t>(a.values.size()));
  });
  if (moments)
    for_each_row_block("weights", weights_spec, block, [&](const array_data& a) {
      s.second(a.values.data(), static_cast<std::int64_t>(a.values.size()));
    });
  return s.result();
}

void for_each_row_block(const std::string& field, const std::string& spec, std::int64_t elements,
                        const std::function<void(const array_data&)>& fn) {
  const array_data head = read_array(field, spec, {0, 0});
  const std::int64_t rows = head.shape.empty() ? 1 : head.shape[0];
  std::int64_t per_row = 1;
  for (std::size_t d = 1; d < head.shape.size(); ++d) per_row *= head.shape[d];
  const std::int64_t block = std::max<std::int64_t>(1, elements / std::max<std::int64_t>(per_row, 1));
  for (std::int64_t first = 0; first < rows; first += block) fn(read_array(field, spec, {first, std::min(block, rows - first)}));
}

user_network loaded_network::view() const {
  user_network u;
  if (weights.shape.size() == 2 && streamed) {
    const std::int64_t rows = weights.shape[0], cols = weights.shape[1];
    u.weights = weights_view{.data = nullptr, .single = false, .rows = rows, .cols = cols, .row_stride = cols,
                             .col_stride = 1};
    u.weights.first_row = streamed->first;
    u.weights.held = streamed->count < 0 ? rows : streamed->count;
    u.weights.fetch = [spec = weights.spec, cols](std::int64_t first, std::int64_t count, double* out) {
      const array_data a = read_array("weights", spec, {first, count});
      if (static_cast<std::int64_t>(a.values.size()) != count * cols)
        throw IoError(fmt::format("{}: rows {} .. {} could not be read whole", spec, first, first + count - 1));
      std::copy(a.values.begin(), a.values.end(), out);
    };
    u.weights_source = weights.spec;
    u.summary = summary;
  } else if (weights.shape.size() == 2) {
    u.weights = c_order_view(weights.values.data(), weights.shape[0], weights.shape[1]);
    u.weights.first_row = weights.first_row;
    u.weights.held = static_cast<std::int64_t>(weights.values.size()) / std::max<std::int64_t>(weights.shape[1], 1);
    u.weights_source = weights.spec.empty() ? "memory" : weights.spec;
    u.summary = summary;
  }
  if (!bias.values.empty()) {
    u.bias = bias.values.data();
    u.bias_size = static_cast<std::int64_t>(bias.values.size());
    u.bias_source = bias.spec.empty() ? "memory" : bias.spec;
  }
  return u;
}

loaded_network read_user_network(const std::string& weights_spec, const std::string& bias_spec, row_range rows) {
  loaded_network out;
  if (!weights_spec.empty()) {
    out.weights = read_array("weights", weights_spec, rows);
    const auto& s = out.weights.shape;
    if (s.size() != 2 || s[0] < 1 || s[1] < 1) {
      std::string shape;
      for (std::size_t k = 0; k < s.size(); ++k) shape += (k ? ", " : "") + std::to_string(s[k]);
      throw InvalidArgument("weights", weights_spec, fmt::format("has shape [{}]: it must be an N x N matrix", shape));
    }
  }
  if (!bias_spec.empty()) {
    out.bias = read_array("bias", bias_spec);
    const auto& s = out.bias.shape;
    if (s.size() != 1 || s[0] < 1) {
      std::string shape;
      for (std::size_t k = 0; k < s.size(); ++k) shape += (k ? ", " : "") + std::to_string(s[k]);
      throw InvalidArgument("bias", bias_spec, fmt::format("has shape [{}]: it must be a vector of length N", shape));
    }
  }
  return out;
}

}  // namespace amari

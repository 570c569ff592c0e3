// staticnet/data/idx.hpp: MNIST-style IDX files (MNIST, Fashion-MNIST, ...).
//
//   auto train = staticnet::data::load_fashion_mnist("/usr/share/datasets/fashion-mnist",
//                                                    staticnet::data::split::train);
//   auto d = staticnet::data::load_idx("imgs-idx3-ubyte.gz", "labels-idx1-ubyte.gz", {"no", "yes"});
//
// An IDX file is a 4-byte magic number (0, 0, data type, number of
// dimensions), one big-endian uint32 per dimension, then the data, row-major.
// Images are unsigned bytes (type 0x08) of N x H x W (3 dimensions; C = 1) or
// N x H x W x C (4 dimensions); labels are unsigned bytes of N. Plain or gzip
// (recognised by the magic bytes 1f 8b).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "bytes.hpp"
#include "dataset.hpp"
#include "error.hpp"

namespace staticnet::data {

/// The Fashion-MNIST class names, in label order.
inline std::vector<std::string> fashion_mnist_classes() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

/// The MNIST class names: "0" .. "9".
inline std::vector<std::string> mnist_classes() { return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; }

namespace detail {

struct idx_header {
  std::vector<std::uint64_t> dims;
  std::size_t data_offset = 0;  // bytes of header
  std::uint64_t count = 0;      // product of dims: bytes of data
};

inline std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

/// Parses and checks the header and the data length of an unsigned-byte IDX
/// file of min_dims..max_dims dimensions held in bytes.
inline idx_header parse_idx(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes, bool gz,
                            int min_dims, int max_dims, const char* what) {
  const std::string note = gz ? " (offsets in the decompressed stream)" : "";
  const std::string expected = min_dims == max_dims
                                   ? hex32(0x800u + static_cast<unsigned>(min_dims))
                                   : hex32(0x800u + static_cast<unsigned>(min_dims)) + " or " +
                                         hex32(0x800u + static_cast<unsigned>(max_dims));
  if (bytes.size() < 4)
    throw data_error(file, bytes.size(),
                     "truncated header: the file is " + std::to_string(bytes.size()) +
                         " bytes, an IDX header needs at least 4" + note);
  const std::uint32_t magic = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                              (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
  if (bytes[0] != 0 || bytes[1] != 0)
    throw data_error(file, 0,
                     "wrong magic number " + hex32(magic) + ": not an IDX file (an IDX " + what + " file starts with " +
                         expected + ")");
  if (bytes[2] != 0x08)
    throw data_error(file, 2,
                     "wrong magic number " + hex32(magic) + ": IDX data type " + hex32(bytes[2]) +
                         " is not supported (only unsigned bytes, 0x08; an IDX " + what + " file starts with " +
                         expected + ")");
  const int nd = bytes[3];
  if (nd < min_dims || nd > max_dims)
    throw data_error(file, 3,
                     "wrong magic number " + hex32(magic) + ": an IDX " + what + " file has " +
                         (min_dims == max_dims ? std::to_string(min_dims)
                                               : std::to_string(min_dims) + " or " + std::to_string(max_dims)) +
                         " dimensions, this one " + std::to_string(nd) + " (expected " + expected + ")");
  idx_header h;
  h.data_offset = 4 + 4 * static_cast<std::size_t>(nd);
  if (bytes.size() < h.data_offset)
    throw data_error(file, bytes.size(),
                     "truncated header: the file is " + std::to_string(bytes.size()) + " bytes, its header of " +
                         std::to_string(nd) + " dimensions needs " + std::to_string(h.data_offset) + note);
  h.count = 1;
  constexpr std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() / 2;
  for (int a = 0; a < nd; ++a) {
    const std::uint8_t* p = bytes.data() + 4 + 4 * a;
    const std::uint64_t dim = (std::uint64_t{p[0]} << 24) | (std::uint64_t{p[1]} << 16) |
                              (std::uint64_t{p[2]} << 8) | std::uint64_t{p[3]};
    if (dim == 0 && a > 0)
      throw data_error(file, 4 + 4 * static_cast<std::uint64_t>(a),
                       "wrong image size: dimension " + std::to_string(a) + " is 0" + note);
    if (dim != 0 && h.count > limit / dim)
      throw data_error(file, 4, "wrong image size: the dimensions' product overflows" + note);
    h.count *= dim;
    h.dims.push_back(dim);
  }
  const std::uint64_t have = bytes.size() - h.data_offset;
  if (have < h.count)
    throw data_error(file, bytes.size(),
                     "truncated data: the header's dimensions need " + std::to_string(h.count) +
                         " bytes of data from byte " + std::to_string(h.data_offset) + ", the file has only " +
                         std::to_string(have) + note);
  if (have > h.count)
    throw data_error(file, h.data_offset + h.count,
                     "wrong image size: " + std::to_string(have - h.count) +
                         " bytes after the data the header's dimensions describe (" + std::to_string(h.count) +
                         " bytes)" + note);
  return h;
}

inline std::filesystem::path find_data_file(const std::filesystem::path& dir, const std::string& name) {
  std::error_code ec;
  for (const auto& candidate : {dir / (name + ".gz"), dir / name})
    if (std::filesystem::exists(candidate, ec)) return candidate;
  throw data_error(dir / (name + ".gz"), 0, "cannot open file: no such file (nor " + (dir / name).string() + ")");
}

}  // namespace detail

/// Images and labels from a pair of IDX files. classes names the labels; a
/// label outside [0, classes.size()) is a data_error. When classes is empty the
/// names are "0" .. the largest label.
inline dataset load_idx(const std::filesystem::path& images, const std::filesystem::path& labels,
                        std::vector<std::string> classes = {}) {
  std::vector<std::uint8_t> bytes;
  const bool lgz = read_file_bytes(labels, bytes);
  const auto lh = detail::parse_idx(labels, bytes, lgz, 1, 1, "label");
  const std::size_t n = static_cast<std::size_t>(lh.dims[0]);
  dataset d;
  d.labels = ndarray<std::int32_t, 1>::from_shape({n});
  int max_label = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const int l = bytes[lh.data_offset + i];
    if (!classes.empty() && static_cast<std::size_t>(l) >= classes.size())
      throw data_error(labels, lh.data_offset + i,
                       "label " + std::to_string(l) + " of record " + std::to_string(i) + " is out of range [0, " +
                           std::to_string(classes.size()) + ")" + detail::decompressed_note(lgz));
    d.labels.data()[i] = l;
    max_label = std::max(max_label, l);
  }
  if (classes.empty())
    for (int c = 0; c <= max_label; ++c) classes.push_back(std::to_string(c));

  const bool igz = read_file_bytes(images, bytes);
  const auto ih = detail::parse_idx(images, bytes, igz, 3, 4, "image");
  if (ih.dims[0] != n)
    throw data_error(images, 4,
                     "wrong image size: the file holds " + std::to_string(ih.dims[0]) + " images but " +
                         labels.string() + " holds " + std::to_string(n) + " labels" +
                         detail::decompressed_note(igz));
  const std::size_t c = ih.dims.size() == 4 ? static_cast<std::size_t>(ih.dims[3]) : 1;
  d.images = ndarray<std::uint8_t, 4>::from_shape(
      {n, static_cast<std::size_t>(ih.dims[1]), static_cast<std::size_t>(ih.dims[2]), c});
  std::copy_n(bytes.data() + ih.data_offset, static_cast<std::size_t>(ih.count), d.images.data());
  d.classes = std::move(classes);
  return d;
}

/// MNIST from a directory of the standard file names ({train,t10k}-images-idx3-ubyte
/// and -labels-idx1-ubyte), each tried with .gz first, then plain.
inline dataset load_mnist(const std::filesystem::path& dir, split s) {
  const std::string prefix = s == split::train ? "train" : "t10k";
  return load_idx(detail::find_data_file(dir, prefix + "-images-idx3-ubyte"),
                  detail::find_data_file(dir, prefix + "-labels-idx1-ubyte"), mnist_classes());
}

/// Fashion-MNIST: the same file names as MNIST, with the Fashion-MNIST class names.
inline dataset load_fashion_mnist(const std::filesystem::path& dir, split s) {
  const std::string prefix = s == split::train ? "train" : "t10k";
  return load_idx(detail::find_data_file(dir, prefix + "-images-idx3-ubyte"),
                  detail::find_data_file(dir, prefix + "-labels-idx1-ubyte"), fashion_mnist_classes());
}

}  // namespace staticnet::data

// staticnet/data/dataset.hpp: an in-memory image classification data set.
//
//   images: N x H x W x C uint8 (row-major, as numpy and albumentations hold them)
//   labels: N int32 class indices in [0, classes.size())
//   classes: the class names, in label order
//
// The arrays are ndarray (ndarray.hpp: row-major, contiguous; data/xtensor.hpp
// views them as xtensor expressions); the loaders and the batch loader work on
// the contiguous buffer (image(i) is sample i's H*W*C bytes).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ndarray.hpp"

namespace staticnet::data {

/// Which part of a standard data set to load.
enum class split { train, test };

struct dataset {
  ndarray<std::uint8_t, 4> images;  ///< N x H x W x C
  ndarray<std::int32_t, 1> labels;  ///< N
  std::vector<std::string> classes;     ///< class names, in label order

  [[nodiscard]] int size() const { return static_cast<int>(images.shape()[0]); }
  [[nodiscard]] int height() const { return static_cast<int>(images.shape()[1]); }
  [[nodiscard]] int width() const { return static_cast<int>(images.shape()[2]); }
  [[nodiscard]] int channels() const { return static_cast<int>(images.shape()[3]); }
  [[nodiscard]] bool empty() const { return images.shape()[0] == 0; }
  /// Bytes of one sample: H * W * C.
  [[nodiscard]] std::size_t sample_bytes() const {
    return images.shape()[1] * images.shape()[2] * images.shape()[3];
  }
  /// Sample i's H x W x C bytes (interleaved channels).
  [[nodiscard]] const std::uint8_t* image(std::size_t i) const { return images.data() + i * sample_bytes(); }
  [[nodiscard]] std::uint8_t* image(std::size_t i) { return images.data() + i * sample_bytes(); }
};

/// Throws std::invalid_argument unless labels has one entry per image and
/// every label is in [0, classes.size()) (any non-negative label when classes is empty).
inline void validate(const dataset& d) {
  if (d.labels.shape()[0] != d.images.shape()[0])
    throw std::invalid_argument("staticnet::data: dataset has " + std::to_string(d.images.shape()[0]) +
                                " images but " + std::to_string(d.labels.shape()[0]) + " labels");
  const auto* l = d.labels.data();
  for (std::size_t i = 0; i < d.labels.shape()[0]; ++i)
    if (l[i] < 0 || (!d.classes.empty() && static_cast<std::size_t>(l[i]) >= d.classes.size()))
      throw std::invalid_argument("staticnet::data: label " + std::to_string(l[i]) + " of sample " +
                                  std::to_string(i) + " is out of range [0, " +
                                  std::to_string(d.classes.size()) + ")");
}

/// Samples [first, first + count) of d, copied (std::out_of_range past the end).
inline dataset subset(const dataset& d, std::size_t first, std::size_t count) {
  const std::size_t n = d.images.shape()[0];
  if (first > n || count > n - first)
    throw std::out_of_range("staticnet::data::subset: samples [" + std::to_string(first) + ", " +
                            std::to_string(first + count) + ") of a dataset of " + std::to_string(n));
  dataset out;
  out.images = ndarray<std::uint8_t, 4>::from_shape(
      {count, d.images.shape()[1], d.images.shape()[2], d.images.shape()[3]});
  out.labels = ndarray<std::int32_t, 1>::from_shape({count});
  const std::size_t bytes = d.sample_bytes();
  std::copy_n(d.images.data() + first * bytes, count * bytes, out.images.data());
  std::copy_n(d.labels.data() + first, count, out.labels.data());
  out.classes = d.classes;
  return out;
}

namespace detail {
inline dataset concat_parts(std::span<const dataset* const> parts) {
  dataset out;
  if (parts.empty()) {
    out.images = ndarray<std::uint8_t, 4>::from_shape({0, 0, 0, 0});
    out.labels = ndarray<std::int32_t, 1>::from_shape({0});
    return out;
  }
  const auto s = parts[0]->images.shape();
  std::size_t n = 0;
  for (const dataset* p : parts) {
    for (std::size_t a = 1; a < 4; ++a)
      if (p->images.shape()[a] != s[a])
        throw std::invalid_argument("staticnet::data::concat: the parts have different image shapes");
    if (p->labels.shape()[0] != p->images.shape()[0])
      throw std::invalid_argument("staticnet::data::concat: a part has a different number of labels and images");
    if (!p->classes.empty()) {
      if (!out.classes.empty() && out.classes != p->classes)
        throw std::invalid_argument("staticnet::data::concat: the parts have different class names");
      out.classes = p->classes;
    }
    n += p->images.shape()[0];
  }
  out.images = ndarray<std::uint8_t, 4>::from_shape({n, s[1], s[2], s[3]});
  out.labels = ndarray<std::int32_t, 1>::from_shape({n});
  std::uint8_t* img = out.images.data();
  std::int32_t* lab = out.labels.data();
  for (const dataset* p : parts) {
    img = std::copy_n(p->images.data(), p->images.size(), img);
    lab = std::copy_n(p->labels.data(), p->labels.size(), lab);
  }
  return out;
}
}  // namespace detail

/// The samples of every part, in order (copied). The parts must agree on H, W
/// and C and on the class names (a part without class names takes the others').
inline dataset concat(std::span<const dataset> parts) {
  std::vector<const dataset*> ptrs;
  ptrs.reserve(parts.size());
  for (const auto& p : parts) ptrs.push_back(&p);
  return detail::concat_parts(ptrs);
}

inline dataset concat(const dataset& a, const dataset& b) {
  const dataset* ptrs[2] = {&a, &b};
  return detail::concat_parts(ptrs);
}

}  // namespace staticnet::data

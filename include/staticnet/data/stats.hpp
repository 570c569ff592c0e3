// staticnet/data/stats.hpp: per-channel mean and standard deviation.
//
//   auto st = staticnet::data::compute_channel_stats(train);   // in [0, 1] units
//   auto tf = staticnet::data::normalize_transform(st.mean, st.std);
//
// The statistics are over all pixels of a channel in all images, pixel values
// divided by 255, and the std is the population one (divide by the count), as
// torchvision users compute them (e.g. CIFAR-10's train set gives mean
// 0.4914, 0.4822, 0.4465 and std 0.2470, 0.2435, 0.2616). The sums are exact
// integer sums, so the result does not depend on the order of the pixels.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "dataset.hpp"

namespace staticnet::data {

struct channel_stats {
  std::vector<double> mean;  ///< per channel, in [0, 1]
  std::vector<double> std;   ///< per channel, population standard deviation, in [0, 1] units
};

/// Mean and population std of every channel of d (std::invalid_argument when d is empty).
inline channel_stats compute_channel_stats(const dataset& d) {
  const std::size_t c = d.images.shape()[3];
  const std::size_t pixels = d.images.shape()[0] * d.images.shape()[1] * d.images.shape()[2];
  if (pixels == 0 || c == 0) throw std::invalid_argument("staticnet::data::compute_channel_stats: empty dataset");
  // A histogram per channel, then exact integer sums.
  std::vector<std::uint64_t> hist(256 * c, 0);
  const std::uint8_t* p = d.images.data();
  if (c == 1) {
    for (std::size_t i = 0; i < pixels; ++i) ++hist[p[i]];
  } else {
    for (std::size_t i = 0; i < pixels; ++i, p += c)
      for (std::size_t k = 0; k < c; ++k) ++hist[k * 256 + p[k]];
  }
  std::vector<std::uint64_t> sum(c, 0), sq(c, 0);
  for (std::size_t k = 0; k < c; ++k)
    for (std::uint64_t v = 0; v < 256; ++v) {
      sum[k] += v * hist[k * 256 + v];
      sq[k] += v * v * hist[k * 256 + v];
    }
  channel_stats st;
  const long double n = static_cast<long double>(pixels);
  for (std::size_t k = 0; k < c; ++k) {
    const long double mean = static_cast<long double>(sum[k]) / n;
    long double var = static_cast<long double>(sq[k]) / n - mean * mean;
    if (var < 0) var = 0;
    st.mean.push_back(static_cast<double>(mean / 255.0L));
    st.std.push_back(static_cast<double>(std::sqrt(var) / 255.0L));
  }
  return st;
}

/// Published statistics of the standard training sets (in [0, 1] units), for
/// when the training set is not at hand.
inline channel_stats cifar10_train_stats() { return {{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}}; }
inline channel_stats fashion_mnist_train_stats() { return {{0.2860}, {0.3530}}; }
inline channel_stats mnist_train_stats() { return {{0.1307}, {0.3081}}; }

}  // namespace staticnet::data

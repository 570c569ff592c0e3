// staticnet/data/transform.hpp: per-sample transforms, uint8 HWC -> float CHW.
//
// A sample_transform turns one H x W x C uint8 image (channels interleaved,
// as the dataset holds it) into the C x H x W floats the model eats, writing
// them to chw_out. It may draw from rng (augmentation): the batch loader seeds
// rng per sample from (seed, epoch, dataset index), so the result does not
// depend on which thread runs it or when. It is called concurrently from
// several threads, so it must not mutate shared state; it may throw (the
// exception reaches the caller of batch_loader::next()).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "stats.hpp"

namespace staticnet::data {

using sample_transform = std::function<void(const std::uint8_t* hwc, int h, int w, int c, float* chw_out,
                                            std::mt19937_64& rng)>;

/// chw[k][y][x] = hwc[y][x][k] * scale[k] + shift[k], for k < c.
inline void hwc_to_chw(const std::uint8_t* hwc, int h, int w, int c, float* chw, const float* scale,
                       const float* shift) {
  const std::size_t plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
  const auto cc = static_cast<std::size_t>(c);
  for (std::size_t k = 0; k < cc; ++k) {
    const float a = scale[k], b = shift[k];
    const std::uint8_t* src = hwc + k;
    float* dst = chw + k * plane;
    for (std::size_t p = 0; p < plane; ++p) dst[p] = static_cast<float>(src[p * cc]) * a + b;
  }
}

/// x / 255, to C x H x W (any number of channels).
inline sample_transform to_float_transform() {
  return [](const std::uint8_t* hwc, int h, int w, int c, float* chw, std::mt19937_64&) {
    const std::size_t plane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    const auto cc = static_cast<std::size_t>(c);
    constexpr float inv = 1.0f / 255.0f;
    for (std::size_t k = 0; k < cc; ++k)
      for (std::size_t p = 0; p < plane; ++p) chw[k * plane + p] = static_cast<float>(hwc[p * cc + k]) * inv;
  };
}

/// (x / 255 - mean[k]) / std[k], to C x H x W. mean and std have one entry per
/// channel (std::invalid_argument otherwise, or when a std is not positive; a
/// sample with another number of channels makes the transform throw).
inline sample_transform normalize_transform(std::vector<double> mean, std::vector<double> std) {
  if (mean.empty() || mean.size() != std.size())
    throw std::invalid_argument("staticnet::data::normalize_transform: mean and std need one entry per channel (got " +
                                std::to_string(mean.size()) + " and " + std::to_string(std.size()) + ")");
  std::vector<float> scale(mean.size()), shift(mean.size());
  for (std::size_t k = 0; k < mean.size(); ++k) {
    if (!(std[k] > 0))
      throw std::invalid_argument("staticnet::data::normalize_transform: std of channel " + std::to_string(k) +
                                  " is not positive");
    scale[k] = static_cast<float>(1.0 / (255.0 * std[k]));
    shift[k] = static_cast<float>(-mean[k] / std[k]);
  }
  return [scale = std::move(scale), shift = std::move(shift)](const std::uint8_t* hwc, int h, int w, int c,
                                                              float* chw, std::mt19937_64&) {
    if (c < 0 || static_cast<std::size_t>(c) != scale.size())
      throw std::invalid_argument("staticnet::data::normalize_transform: a sample has " + std::to_string(c) +
                                  " channels, the transform was made for " + std::to_string(scale.size()));
    hwc_to_chw(hwc, h, w, c, chw, scale.data(), shift.data());
  };
}

inline sample_transform normalize_transform(const channel_stats& st) { return normalize_transform(st.mean, st.std); }

}  // namespace staticnet::data

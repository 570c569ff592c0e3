// staticnet/augment/normalize.hpp: Normalize (albumentations 1.3), the step
// that ends a pipeline: uint8 HWC in, float CHW (the model's layout) out.
//
//   Normalize{.mean = {0.4914, 0.4822, 0.4465}, .std = {0.2470, 0.2435, 0.2616}}
//
// out[k][y][x] = (img[y][x][k] - mean[k] * max_pixel_value) / (std[k] * max_pixel_value),
// in float32 exactly as albumentations' F.normalize computes it:
//   m = float32(mean) * float32(max_pixel_value); r = 1 / (float32(std) * float32(max_pixel_value))
//   out = (float32(x) - m) * r
// mean and std give one value per channel, or one for all channels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"

namespace staticnet::augment {

namespace functional {
/// F.normalize, writing C x H x W floats to chw_out (img.size() of them).
inline void normalize(const image& img, const channel_values& mean, const channel_values& std,
                      double max_pixel_value, float* chw_out) {
  detail::check_fits("Normalize", "mean", mean, img.channels);
  detail::check_fits("Normalize", "std", std, img.channels);
  const std::size_t plane = static_cast<std::size_t>(img.height) * static_cast<std::size_t>(img.width);
  const auto cn = static_cast<std::size_t>(img.channels);
  const float mpv = static_cast<float>(max_pixel_value);
  for (std::size_t k = 0; k < cn; ++k) {
    const float m = static_cast<float>(mean[static_cast<int>(k)]) * mpv;
    const float r = 1.0f / (static_cast<float>(std[static_cast<int>(k)]) * mpv);
    const std::uint8_t* src = img.data.data() + k;
    float* dst = chw_out + k * plane;
    for (std::size_t i = 0; i < plane; ++i) dst[i] = (static_cast<float>(src[i * cn]) - m) * r;
  }
}

/// HWC uint8 -> CHW float without scaling (what a pipeline writes when its
/// Normalize is not applied: albumentations' image as ToTensorV2 would take it).
inline void to_chw(const image& img, float* chw_out) {
  const std::size_t plane = static_cast<std::size_t>(img.height) * static_cast<std::size_t>(img.width);
  const auto cn = static_cast<std::size_t>(img.channels);
  for (std::size_t k = 0; k < cn; ++k)
    for (std::size_t i = 0; i < plane; ++i) chw_out[k * plane + i] = static_cast<float>(img.data[i * cn + k]);
}
}  // namespace functional

struct Normalize {
  channel_values mean = {0.485, 0.456, 0.406};
  channel_values std = {0.229, 0.224, 0.225};
  double max_pixel_value = 255.0;
  bool always_apply = false;
  double p = 1.0;
  [[no_unique_address]] detail::validated validated_ = validate();

  detail::validated validate() const {
    constexpr const char* t = "Normalize";
    detail::check_probability(t, p);
    if (!(max_pixel_value > 0 && max_pixel_value < 1e30))
      detail::invalid(t, "max_pixel_value must be positive and finite, got " + detail::fmt(max_pixel_value));
    if (!mean.fits(std.count) && !std.fits(mean.count))
      detail::invalid(t, "mean has " + std::to_string(mean.count) + " values and std " + std::to_string(std.count) +
                             " (give one per channel, or one for all)");
    for (int k = 0; k < std.count; ++k)
      if (!(std[k] > 0 && std[k] < 1e30))
        detail::invalid(t, "std must be positive and finite, got " + detail::fmt(std[k]) +
                               (std.count > 1 ? " for channel " + std::to_string(k) : std::string()));
    for (int k = 0; k < mean.count; ++k)
      if (!(mean[k] > -1e30 && mean[k] < 1e30)) detail::invalid(t, "mean must be finite, got " + detail::fmt(mean[k]));
    return {};
  }

  /// Draws random() < p; when applied (or always_apply) writes the normalised
  /// C x H x W floats, else the raw pixel values as floats. true if applied.
  bool run(const image& img, float* chw_out, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) {
      functional::to_chw(img, chw_out);
      return false;
    }
    functional::normalize(img, mean, std, max_pixel_value, chw_out);
    return true;
  }
  /// The same into a new vector (img.size() floats, C x H x W).
  [[nodiscard]] std::vector<float> apply(const image& img, rng_type& rng) const {
    validate();
    std::vector<float> out(img.size());
    run(img, out.data(), rng);
    return out;
  }
  void output_dims(int&, int&, int&) const noexcept {}
};

}  // namespace staticnet::augment

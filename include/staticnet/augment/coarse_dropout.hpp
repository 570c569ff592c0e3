// staticnet/augment/coarse_dropout.hpp: CoarseDropout (albumentations 1.3).
//
//   CoarseDropout{.max_holes = 1, .max_height = 16, .max_width = 16, .min_holes = 1,
//                 .min_height = 16, .min_width = 16, .fill_value = {125.3, 123.0, 113.9}, .p = 0.5}
//
// Draws the number of holes n ~ randint(min_holes, max_holes), then for each
// hole, in this order: hole_height ~ randint(min_height, max_height),
// hole_width ~ randint(min_width, max_width), y1 ~ randint(0, height - hole_height),
// x1 ~ randint(0, width - hole_width) (randint includes both ends), and sets
// img[y1:y1 + hole_height, x1:x1 + hole_width] = fill_value. Holes may overlap.
// min_* left unset take the max_* value. fill_value is in pixel units, one
// number or one per channel; it is stored as numpy stores a float into uint8
// (truncated: 125.3 -> 125).
// Sizes are whole pixels (albumentations' float sizes, fractions of the image,
// are not supported). A hole taller or wider than the image throws
// std::invalid_argument when the transform meets the image (albumentations
// fails only when such a size is drawn).
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"

namespace staticnet::augment {

/// A hole: rows [y1, y2), columns [x1, x2) (albumentations' (x1, y1, x2, y2)).
struct hole {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  friend bool operator==(const hole&, const hole&) = default;
};

namespace functional {
/// albumentations F.cutout for one hole: img[y1:y2, x1:x2] = fill (clipped to the image).
inline void cutout(image& img, const hole& h, const channel_values& fill_value) {
  detail::check_fits("cutout", "fill_value", fill_value, img.channels);
  std::uint8_t v[4] = {};
  for (int k = 0; k < img.channels; ++k) v[k] = static_cast<std::uint8_t>(fill_value[k]);  // numpy: truncates
  const int x1 = std::max(h.x1, 0), x2 = std::min(h.x2, img.width);
  for (int y = std::max(h.y1, 0); y < std::min(h.y2, img.height); ++y)
    for (int x = x1; x < x2; ++x)
      for (int k = 0; k < img.channels; ++k) img.at(y, x, k) = v[k];
}
}  // namespace functional

struct CoarseDropout {
  int max_holes = 8;
  int max_height = 8;
  int max_width = 8;
  std::optional<int> min_holes = std::nullopt;   ///< unset: max_holes
  std::optional<int> min_height = std::nullopt;  ///< unset: max_height
  std::optional<int> min_width = std::nullopt;   ///< unset: max_width
  channel_values fill_value = 0;
  bool always_apply = false;
  double p = 0.5;
  [[no_unique_address]] detail::validated validated_ = validate();

  [[nodiscard]] int min_holes_value() const noexcept { return min_holes.value_or(max_holes); }
  [[nodiscard]] int min_height_value() const noexcept { return min_height.value_or(max_height); }
  [[nodiscard]] int min_width_value() const noexcept { return min_width.value_or(max_width); }

  detail::validated validate() const {
    constexpr const char* t = "CoarseDropout";
    detail::check_probability(t, p);
    auto pair = [](int lo, int hi) { return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]"; };
    if (!(0 < min_holes_value() && min_holes_value() <= max_holes))
      detail::invalid(t, "need 0 < min_holes <= max_holes, got [min_holes, max_holes] = " +
                             pair(min_holes_value(), max_holes));
    if (!(0 < min_height_value() && min_height_value() <= max_height))
      detail::invalid(t, "need 0 < min_height <= max_height, got [min_height, max_height] = " +
                             pair(min_height_value(), max_height));
    if (!(0 < min_width_value() && min_width_value() <= max_width))
      detail::invalid(t, "need 0 < min_width <= max_width, got [min_width, max_width] = " +
                             pair(min_width_value(), max_width));
    detail::check_pixel_values(t, "fill_value", fill_value);
    return {};
  }

  /// Throws if the holes cannot fit a height x width image.
  void check_image(int height, int width) const {
    constexpr const char* t = "CoarseDropout";
    if (max_height > height)
      detail::invalid(t, "max_height " + std::to_string(max_height) + " is larger than the image height " +
                             std::to_string(height));
    if (max_width > width)
      detail::invalid(t, "max_width " + std::to_string(max_width) + " is larger than the image width " +
                             std::to_string(width));
  }

  /// Draws the holes for a height x width image and calls f(hole) for each
  /// (no allocation), in albumentations' order.
  template <class F>
  void for_each_hole(rng_type& rng, int height, int width, F&& f) const {
    const int n = randint(rng, min_holes_value(), max_holes);
    for (int i = 0; i < n; ++i) {
      const int hh = randint(rng, min_height_value(), max_height);
      const int hw = randint(rng, min_width_value(), max_width);
      const int y1 = randint(rng, 0, height - hh);
      const int x1 = randint(rng, 0, width - hw);
      f(hole{x1, y1, x1 + hw, y1 + hh});
    }
  }
  /// get_params_dependent_on_targets: the holes for a height x width image.
  [[nodiscard]] std::vector<hole> get_params(rng_type& rng, int height, int width) const {
    check_image(height, width);
    std::vector<hole> holes;
    for_each_hole(rng, height, width, [&](const hole& h) { holes.push_back(h); });
    return holes;
  }

  bool run(image& img, image& /*scratch*/, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) return false;
    check_image(img.height, img.width);
    detail::check_fits("CoarseDropout", "fill_value", fill_value, img.channels);
    for_each_hole(rng, img.height, img.width, [&](const hole& h) { functional::cutout(img, h, fill_value); });
    return true;
  }
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    validate();
    return detail::apply_copy(*this, in, rng);
  }
  void output_dims(int&, int&, int&) const noexcept {}
};

}  // namespace staticnet::augment

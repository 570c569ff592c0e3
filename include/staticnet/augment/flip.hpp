// staticnet/augment/flip.hpp: HorizontalFlip (albumentations 1.3).
//
//   HorizontalFlip{.p = 0.5}: mirrors the image about its vertical axis,
//   pixel (y, x) -> (y, width - 1 - x). Exact.
#pragma once
#include <algorithm>
#include <cstdint>

#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"

namespace staticnet::augment {

namespace functional {
/// albumentations F.hflip, in place.
inline void hflip(image& img) noexcept {
  const int cn = img.channels;
  for (int y = 0; y < img.height; ++y)
    for (int l = 0, r = img.width - 1; l < r; ++l, --r)
      std::swap_ranges(img.pixel(y, l), img.pixel(y, l) + cn, img.pixel(y, r));
}
}  // namespace functional

struct HorizontalFlip {
  bool always_apply = false;
  double p = 0.5;
  [[no_unique_address]] detail::validated validated_ = validate();

  detail::validated validate() const {
    detail::check_probability("HorizontalFlip", p);
    return {};
  }
  bool run(image& img, image& /*scratch*/, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) return false;
    functional::hflip(img);
    return true;
  }
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    validate();
    return detail::apply_copy(*this, in, rng);
  }
  void output_dims(int&, int&, int&) const noexcept {}
};

}  // namespace staticnet::augment

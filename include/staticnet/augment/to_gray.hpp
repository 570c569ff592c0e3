// staticnet/augment/to_gray.hpp: ToGray (albumentations 1.3).
//
//   ToGray{.p = 0.5}: cv2.cvtColor(img, COLOR_RGB2GRAY), then GRAY2RGB (the
//   grey replicated to the 3 channels). OpenCV 4's uint8 formula (bit-exact,
//   checked against cv2 4.6 for all 2^24 colours by tests/golden/generate_augment.py):
//     gray = (9798 R + 19235 G + 3735 B + 2^14) >> 15
//   i.e. 0.299 R + 0.587 G + 0.114 B in 15-bit fixed point, rounded.
// A 1-channel image is returned unchanged (albumentations warns "already
// gray"); other channel counts throw std::invalid_argument (a TypeError there).
#pragma once
#include <cstdint>
#include <string>

#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"

namespace staticnet::augment {

namespace functional {
/// OpenCV's RGB -> gray for uint8.
[[nodiscard]] constexpr std::uint8_t rgb_to_gray(std::uint8_t r, std::uint8_t g, std::uint8_t b) noexcept {
  return static_cast<std::uint8_t>((9798 * r + 19235 * g + 3735 * b + (1 << 14)) >> 15);
}
/// albumentations F.to_gray, in place (3 channels).
inline void to_gray(image& img) {
  if (img.channels != 3)
    detail::invalid("to_gray", "expects a 3-channel (RGB) image, got " + std::to_string(img.channels) + " channels");
  std::uint8_t* p = img.data.data();
  for (std::size_t i = 0, n = img.size(); i < n; i += 3)
    p[i] = p[i + 1] = p[i + 2] = rgb_to_gray(p[i], p[i + 1], p[i + 2]);
}
}  // namespace functional

struct ToGray {
  bool always_apply = false;
  double p = 0.5;
  [[no_unique_address]] detail::validated validated_ = validate();

  detail::validated validate() const {
    detail::check_probability("ToGray", p);
    return {};
  }
  bool run(image& img, image& /*scratch*/, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) return false;
    if (img.channels == 1) return true;  // "The image is already gray."
    if (img.channels != 3)
      detail::invalid("ToGray", "expects 3-channel images, got " + std::to_string(img.channels) + " channels");
    functional::to_gray(img);
    return true;
  }
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    validate();
    return detail::apply_copy(*this, in, rng);
  }
  void output_dims(int&, int&, int&) const noexcept {}
};

}  // namespace staticnet::augment

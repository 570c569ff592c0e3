// staticnet/augment/random_crop.hpp: RandomCrop (albumentations 1.3).
//
//   RandomCrop{.height = 32, .width = 32}   (p = 1 by default)
//
// Draws h_start, w_start ~ random() in [0, 1) and crops rows
// [y1, y1 + height), columns [x1, x1 + width) with
//   y1 = int((rows - height + 1) * h_start), x1 = int((cols - width + 1) * w_start)
// (every offset equally likely). A crop larger than the image throws
// std::invalid_argument (albumentations: ValueError "Requested crop size ... is
// larger than the image size"). height and width have no default and must be set.
#pragma once
#include <cstring>
#include <utility>
#include <string>

#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"

namespace staticnet::augment {

namespace functional {
/// F.crop: rows [y1, y1 + h), columns [x1, x1 + w) of src into dst (dst must not be src).
inline void crop(const image& src, image& dst, int y1, int x1, int h, int w) {
  if (&src == &dst) detail::invalid("crop", "dst must not be src");
  if (y1 < 0 || x1 < 0 || h < 1 || w < 1 || y1 + h > src.height || x1 + w > src.width)
    detail::invalid("crop", "rows [" + std::to_string(y1) + ", " + std::to_string(y1 + h) + "), columns [" +
                                std::to_string(x1) + ", " + std::to_string(x1 + w) + ") do not lie in a " +
                                std::to_string(src.height) + "x" + std::to_string(src.width) + " image");
  dst.reset(h, w, src.channels);
  const std::size_t row = dst.row_stride();
  for (int y = 0; y < h; ++y) std::memcpy(dst.pixel(y, 0), src.pixel(y1 + y, x1), row);
}
}  // namespace functional

struct RandomCrop {
  int height = 0;
  int width = 0;
  bool always_apply = false;
  double p = 1.0;
  [[no_unique_address]] detail::validated validated_ = validate();

  struct params {
    double h_start = 0, w_start = 0;
  };

  detail::validated validate() const {
    constexpr const char* t = "RandomCrop";
    detail::check_probability(t, p);
    if (height < 1 || width < 1)
      detail::invalid(t, "height and width must be set and >= 1, got height = " + std::to_string(height) +
                             ", width = " + std::to_string(width));
    return {};
  }
  void check_image(int rows, int cols) const {
    if (rows < height || cols < width)
      detail::invalid("RandomCrop", "Requested crop size (" + std::to_string(height) + ", " + std::to_string(width) +
                                        ") is larger than the image size (" + std::to_string(rows) + ", " +
                                        std::to_string(cols) + ")");
  }
  /// get_params: h_start, w_start.
  [[nodiscard]] params get_params(rng_type& rng) const {
    params q;
    q.h_start = uniform01(rng);
    q.w_start = uniform01(rng);
    return q;
  }
  /// get_random_crop_coords: the top-left corner (y1, x1) in a rows x cols image.
  [[nodiscard]] std::pair<int, int> crop_origin(int rows, int cols, const params& q) const noexcept {
    return {static_cast<int>((rows - height + 1) * q.h_start), static_cast<int>((cols - width + 1) * q.w_start)};
  }

  bool run(image& img, image& scratch, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) return false;
    const params q = get_params(rng);
    check_image(img.height, img.width);
    const auto [y1, x1] = crop_origin(img.height, img.width, q);
    functional::crop(img, scratch, y1, x1, height, width);
    std::swap(img, scratch);
    return true;
  }
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    validate();
    return detail::apply_copy(*this, in, rng);
  }
  void output_dims(int& h, int& w, int&) const {
    check_image(h, w);
    h = height;
    w = width;
  }
};

}  // namespace staticnet::augment

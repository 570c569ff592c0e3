// staticnet/augment/shift_scale_rotate.hpp: ShiftScaleRotate (albumentations 1.3).
//
//   ShiftScaleRotate{.shift_limit = 0.05, .scale_limit = 0.05, .rotate_limit = 15, .p = 0.5}
//
// Draws (in this order) angle ~ U(rotate_limit), scale ~ U(1 + scale_limit),
// dx ~ U(shift_limit_x or shift_limit), dy ~ U(shift_limit_y or shift_limit)
// (a number v means [-v, v]; {lo, hi} a range: `.rotate_limit = {90, 90}` is
// exactly 90 degrees), then does what albumentations' F.shift_scale_rotate does:
//   center = (width / 2 - 0.5, height / 2 - 0.5)       # the centre of the pixel grid
//   M = cv2.getRotationMatrix2D(center, angle, scale)  # angle > 0: counter-clockwise
//   M[0, 2] += dx * width;  M[1, 2] += dy * height     # shift, fraction of the size
//   cv2.warpAffine(img, M, (width, height), flags=interpolation,
//                  borderMode=border_mode, borderValue=value)
// (see warp_affine.hpp). The output has the input's size.
#pragma once
#include <optional>
#include <utility>
#include <string>

#include "border.hpp"
#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"
#include "warp_affine.hpp"

namespace staticnet::augment {

namespace functional {

/// The matrix of albumentations' F.shift_scale_rotate for a height x width image.
[[nodiscard]] inline affine_matrix shift_scale_rotate_matrix(int height, int width, double angle, double scale,
                                                             double dx, double dy) {
  affine_matrix m = get_rotation_matrix_2d(width / 2.0 - 0.5, height / 2.0 - 0.5, angle, scale);
  m[2] += detail::rounded_product(dx, width);
  m[5] += detail::rounded_product(dy, height);
  return m;
}

/// albumentations F.shift_scale_rotate(img, angle, scale, dx, dy, interpolation,
/// border_mode, value) into dst (dst must not be src).
inline void shift_scale_rotate(const image& src, image& dst, double angle, double scale, double dx, double dy,
                               interp interpolation = INTER_LINEAR, border border_mode = BORDER_REFLECT_101,
                               const channel_values& value = {}) {
  warp_affine(src, dst, shift_scale_rotate_matrix(src.height, src.width, angle, scale, dx, dy), src.height,
              src.width, interpolation, border_mode, value);
}

}  // namespace functional

struct ShiftScaleRotate {
  limit shift_limit = 0.0625;
  limit scale_limit = 0.1;
  limit rotate_limit = 45;
  interp interpolation = INTER_LINEAR;
  border border_mode = BORDER_REFLECT_101;
  channel_values value = 0;  ///< border value for BORDER_CONSTANT (pixel units)
  std::optional<limit> shift_limit_x = std::nullopt;
  std::optional<limit> shift_limit_y = std::nullopt;
  bool always_apply = false;
  double p = 0.5;
  [[no_unique_address]] detail::validated validated_ = validate();

  struct params {
    double angle = 0, scale = 1, dx = 0, dy = 0;
  };

  detail::validated validate() const {
    constexpr const char* t = "ShiftScaleRotate";
    detail::check_probability(t, p);
    detail::check_finite(t, "rotate_limit", rotate_limit);
    detail::check_finite(t, "scale_limit", scale_limit);
    const limit sx = shift_limit_x.value_or(shift_limit), sy = shift_limit_y.value_or(shift_limit);
    for (auto [name, l] : {std::pair{"shift_limit_x", sx}, std::pair{"shift_limit_y", sy}}) {
      detail::check_finite(t, name, l);
      if (l.low < -1 || l.low > 1 || l.high < -1 || l.high > 1)
        detail::invalid(t, std::string(name) + " must lie in [-1, 1] (a fraction of the image size), got (" +
                               detail::fmt(l.low) + ", " + detail::fmt(l.high) + ")");
    }
    if (!(1 + scale_limit.low > 0 && 1 + scale_limit.high > 0))
      detail::invalid(t, "scale_limit gives scales in [" + detail::fmt(1 + scale_limit.low) + ", " +
                             detail::fmt(1 + scale_limit.high) + "]; they must be > 0 (the range is 1 + scale_limit)");
    if (!is_valid(interpolation)) detail::invalid(t, "interpolation must be INTER_NEAREST or INTER_LINEAR");
    if (!is_valid(border_mode))
      detail::invalid(t, "unknown border_mode " + std::to_string(static_cast<int>(border_mode)));
    detail::check_pixel_values(t, "value", value);
    return {};
  }

  /// get_params: angle, scale, dx, dy, drawn in albumentations' order.
  [[nodiscard]] params get_params(rng_type& rng) const {
    const limit sx = shift_limit_x.value_or(shift_limit), sy = shift_limit_y.value_or(shift_limit);
    params q;
    q.angle = uniform(rng, rotate_limit.low, rotate_limit.high);
    q.scale = uniform(rng, 1.0 + scale_limit.low, 1.0 + scale_limit.high);
    q.dx = uniform(rng, sx.low, sx.high);
    q.dy = uniform(rng, sy.low, sy.high);
    return q;
  }

  bool run(image& img, image& scratch, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) return false;
    const params q = get_params(rng);
    functional::shift_scale_rotate(img, scratch, q.angle, q.scale, q.dx, q.dy, interpolation, border_mode, value);
    std::swap(img, scratch);
    return true;
  }
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    validate();
    return detail::apply_copy(*this, in, rng);
  }
  void output_dims(int&, int&, int&) const noexcept {}
};

}  // namespace staticnet::augment

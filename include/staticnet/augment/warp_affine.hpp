// staticnet/augment/warp_affine.hpp: cv2.getRotationMatrix2D and cv2.warpAffine
// for uint8 images, reproducing OpenCV's fixed-point arithmetic.
//
// warp_affine(src, dst, M, ...) does what cv2.warpAffine(src, M, (w, h), flags,
// borderMode, borderValue) does without WARP_INVERSE_MAP: M maps source to
// destination coordinates; it is inverted (as OpenCV does, in double), and
// every destination pixel (x, y) reads the source at M^-1 (x, y):
//   * the source position is quantised to 1/1024 pixel (OpenCV's AB_BITS = 10,
//     cvRound), then to 1/32 pixel (INTER_BITS = 5);
//   * INTER_LINEAR: the four neighbours weighted by the 15-bit fixed-point
//     bilinear table ((32 - fx)(32 - fy) * 32, ...), result (sum + 2^14) >> 15;
//   * INTER_NEAREST: the pixel at floor(position + 1/2);
//   * neighbours outside the image come from border_interpolate (the border
//     value for BORDER_CONSTANT, so constant borders blend at the edge).
// The products OpenCV rounds before adding are rounded here too (no fused
// multiply-add, whatever -ffp-contract says), so the output is bit-exact with
// OpenCV 4.6 (tests/golden/generate_augment.py; the tests allow +-1).
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <type_traits>
#include <vector>

#include "border.hpp"
#include "image.hpp"
#include "params.hpp"

namespace staticnet::augment {

enum class interp : int { nearest = 0, linear = 1 };

inline constexpr interp INTER_NEAREST = interp::nearest;
inline constexpr interp INTER_LINEAR = interp::linear;

[[nodiscard]] constexpr bool is_valid(interp i) noexcept { return i == interp::nearest || i == interp::linear; }

/// A 2x3 affine matrix, row-major: {m00, m01, m02, m10, m11, m12}.
using affine_matrix = std::array<double, 6>;

namespace detail {

/// a * b rounded to double before it is used: keeps the compiler from fusing
/// it into a following addition (OpenCV's own build rounds it there).
inline double rounded_product(double a, double b) noexcept {
  volatile double p = a * b;
  return p;
}

/// OpenCV's saturate_cast<int>(double): cvRound (half to even), clamped.
inline int round_to_int(double v) noexcept {
  if (!(v > -2147483648.0)) return -2147483647 - 1;  // also NaN, as cvRound gives INT_MIN
  if (v >= 2147483647.0) return 2147483647;
  return static_cast<int>(std::nearbyint(v));
}

inline int saturate_short(int v) noexcept { return v < -32768 ? -32768 : (v > 32767 ? 32767 : v); }

}  // namespace detail

/// cv2.getRotationMatrix2D(center, angle, scale): rotation by `angle` degrees
/// (positive = counter-clockwise as the image is displayed, y pointing down)
/// and scaling about `center`. OpenCV takes the centre as float (Point2f).
[[nodiscard]] inline affine_matrix get_rotation_matrix_2d(double center_x, double center_y, double angle,
                                                          double scale) {
  const double cx = static_cast<float>(center_x), cy = static_cast<float>(center_y);
  const double rad = angle * (std::numbers::pi / 180.0);
  const double alpha = std::cos(rad) * scale;
  const double beta = std::sin(rad) * scale;
  using detail::rounded_product;
  return {alpha, beta, rounded_product(1.0 - alpha, cx) - rounded_product(beta, cy),
          -beta, alpha, rounded_product(beta, cx) + rounded_product(1.0 - alpha, cy)};
}

/// cv::invertAffineTransform as warpAffine does it (a singular matrix gives zeros).
[[nodiscard]] inline affine_matrix invert_affine(affine_matrix m) noexcept {
  using detail::rounded_product;
  double d = rounded_product(m[0], m[4]) - rounded_product(m[1], m[3]);
  d = d != 0.0 ? 1.0 / d : 0.0;
  const double a11 = m[4] * d, a22 = m[0] * d;
  m[0] = a11;
  m[1] *= -d;
  m[3] *= -d;
  m[4] = a22;
  const double b1 = rounded_product(-m[0], m[2]) - rounded_product(m[1], m[5]);
  const double b2 = rounded_product(-m[3], m[2]) - rounded_product(m[4], m[5]);
  m[2] = b1;
  m[5] = b2;
  return m;
}

/// cv2.warpAffine(src, M, (out_w, out_h), flags=interpolation, borderMode=mode,
/// borderValue=value) into dst (resized to out_h x out_w x src.channels; dst
/// must not be src). `value` is per channel or one for all channels; note that
/// cv2 given a plain number fills only the first channel (Scalar(v, 0, 0, 0)),
/// here a number fills every channel.
inline void warp_affine(const image& src, image& dst, const affine_matrix& forward, int out_h, int out_w,
                        interp interpolation = INTER_LINEAR, border mode = BORDER_REFLECT_101,
                        const channel_values& value = {}) {
  if (&src == &dst) detail::invalid("warp_affine", "dst must not be src");
  if (!is_valid(interpolation)) detail::invalid("warp_affine", "interpolation must be INTER_NEAREST or INTER_LINEAR");
  if (!is_valid(mode)) detail::invalid("warp_affine", "unknown border mode " + std::to_string(static_cast<int>(mode)));
  detail::check_fits("warp_affine", "value", value, src.channels);
  dst.reset(out_h, out_w, src.channels);

  const int cn = src.channels, sw = src.width, sh = src.height;
  std::array<std::uint8_t, 4> cval{};
  for (int k = 0; k < cn; ++k) cval[static_cast<std::size_t>(k)] = detail::saturate_u8(value[k]);

  const affine_matrix m = invert_affine(forward);
  constexpr int ab_bits = 10, ab_scale = 1 << ab_bits;    // OpenCV's AB_BITS
  constexpr int inter_bits = 5, tab = 1 << inter_bits;    // INTER_BITS, INTER_TAB_SIZE
  const bool linear = interpolation == interp::linear;
  const int round_delta = linear ? ab_scale / tab / 2 : ab_scale / 2;

  // Source pixel (x, y) under the border mode: a pointer to its channels.
  auto fetch = [&](int x, int y) -> const std::uint8_t* {
    if (x >= 0 && x < sw && y >= 0 && y < sh) return src.pixel(y, x);
    const int bx = border_interpolate(x, sw, mode), by = border_interpolate(y, sh, mode);
    if (bx < 0 || by < 0) return cval.data();
    return src.pixel(by, bx);
  };

  // OpenCV's per-column terms, computed once (a per-thread buffer: no
  // allocation once it has grown).
  thread_local std::vector<int> deltas;
  deltas.resize(2 * static_cast<std::size_t>(out_w));
  int* const adelta = deltas.data();
  int* const bdelta = adelta + out_w;
  for (int x = 0; x < out_w; ++x) {
    adelta[x] = detail::round_to_int(m[0] * x * ab_scale);
    bdelta[x] = detail::round_to_int(m[3] * x * ab_scale);
  }

  // The rows, with the channel count a constant for 1 and 3 channels.
  auto rows = [&](auto channels_tag) {
    constexpr int fixed = decltype(channels_tag)::value;
    const int nc = fixed > 0 ? fixed : cn;
    const std::size_t stride = src.row_stride();
    for (int y = 0; y < out_h; ++y) {
      const int x0 = detail::round_to_int((detail::rounded_product(m[1], y) + m[2]) * ab_scale) + round_delta;
      const int y0 = detail::round_to_int((detail::rounded_product(m[4], y) + m[5]) * ab_scale) + round_delta;
      std::uint8_t* out = dst.pixel(y, 0);
      if (!linear) {
        for (int x = 0; x < out_w; ++x, out += nc) {
          const int sx = detail::saturate_short((x0 + adelta[x]) >> ab_bits);
          const int sy = detail::saturate_short((y0 + bdelta[x]) >> ab_bits);
          const std::uint8_t* p = fetch(sx, sy);
          for (int k = 0; k < nc; ++k) out[k] = p[k];
        }
        continue;
      }
      for (int x = 0; x < out_w; ++x, out += nc) {
        const int X = (x0 + adelta[x]) >> (ab_bits - inter_bits);
        const int Y = (y0 + bdelta[x]) >> (ab_bits - inter_bits);
        const int sx = detail::saturate_short(X >> inter_bits), sy = detail::saturate_short(Y >> inter_bits);
        const int fx = X & (tab - 1), fy = Y & (tab - 1);
        const int w00 = (tab - fx) * (tab - fy) * tab, w01 = fx * (tab - fy) * tab;
        const int w10 = (tab - fx) * fy * tab, w11 = fx * fy * tab;
        const std::uint8_t *p00, *p01, *p10, *p11;
        if (sx >= 0 && sx < sw - 1 && sy >= 0 && sy < sh - 1) {
          p00 = src.pixel(sy, sx);
          p01 = p00 + nc;
          p10 = p00 + stride;
          p11 = p10 + nc;
        } else {
          p00 = fetch(sx, sy);
          p01 = fetch(sx + 1, sy);
          p10 = fetch(sx, sy + 1);
          p11 = fetch(sx + 1, sy + 1);
        }
        for (int k = 0; k < nc; ++k) {
          const int v = p00[k] * w00 + p01[k] * w01 + p10[k] * w10 + p11[k] * w11;
          out[k] = static_cast<std::uint8_t>((v + (1 << 14)) >> 15);
        }
      }
    }
  };
  if (cn == 3)
    rows(std::integral_constant<int, 3>{});
  else if (cn == 1)
    rows(std::integral_constant<int, 1>{});
  else
    rows(std::integral_constant<int, 0>{});
}

}  // namespace staticnet::augment

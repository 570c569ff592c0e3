// staticnet/augment/border.hpp: OpenCV's border modes (pixel extrapolation).
//
// The values are OpenCV's, and the constants carry cv2's names, so that a
// transform reads like its albumentations original:
//   ShiftScaleRotate{.border_mode = augment::BORDER_CONSTANT, .value = 0}
// For a row of length len (abcdefgh):
//   BORDER_CONSTANT     iiiiii|abcdefgh|iiiiiii  (i = the transform's value)
//   BORDER_REPLICATE    aaaaaa|abcdefgh|hhhhhhh
//   BORDER_REFLECT      fedcba|abcdefgh|hgfedcb
//   BORDER_WRAP         cdefgh|abcdefgh|abcdefg
//   BORDER_REFLECT_101  gfedcb|abcdefgh|gfedcba  (the default, BORDER_DEFAULT)
#pragma once
#include <cstdint>

namespace staticnet::augment {

enum class border : int { constant = 0, replicate = 1, reflect = 2, wrap = 3, reflect_101 = 4 };

inline constexpr border BORDER_CONSTANT = border::constant;
inline constexpr border BORDER_REPLICATE = border::replicate;
inline constexpr border BORDER_REFLECT = border::reflect;
inline constexpr border BORDER_WRAP = border::wrap;
inline constexpr border BORDER_REFLECT_101 = border::reflect_101;
inline constexpr border BORDER_REFLECT101 = border::reflect_101;
inline constexpr border BORDER_DEFAULT = border::reflect_101;

[[nodiscard]] constexpr bool is_valid(border b) noexcept {
  return static_cast<int>(b) >= 0 && static_cast<int>(b) <= 4;
}

[[nodiscard]] constexpr const char* name(border b) noexcept {
  switch (b) {
    case border::constant: return "BORDER_CONSTANT";
    case border::replicate: return "BORDER_REPLICATE";
    case border::reflect: return "BORDER_REFLECT";
    case border::wrap: return "BORDER_WRAP";
    case border::reflect_101: return "BORDER_REFLECT_101";
  }
  return "unknown border mode";
}

/// cv::borderInterpolate: the source index that index p of a row of length
/// len (>= 1) reads under `mode`; -1 for BORDER_CONSTANT outside the row.
/// Closed form (OpenCV loops; the result is the same for every p).
[[nodiscard]] constexpr int border_interpolate(int p, int len, border mode) noexcept {
  if (p >= 0 && p < len) return p;
  auto mod = [](long long a, long long m) { return static_cast<int>(((a % m) + m) % m); };
  switch (mode) {
    case border::constant: return -1;
    case border::replicate: return p < 0 ? 0 : len - 1;
    case border::reflect: {  // period 2 len: 0..len-1, len-1..0
      const int q = mod(p, 2LL * len);
      return q < len ? q : 2 * len - 1 - q;
    }
    case border::reflect_101: {  // period 2 (len - 1): 0..len-1, len-2..1
      if (len == 1) return 0;
      const int q = mod(p, 2LL * (len - 1));
      return q < len ? q : 2 * (len - 1) - q;
    }
    case border::wrap: return mod(p, len);
  }
  return -1;
}

}  // namespace staticnet::augment

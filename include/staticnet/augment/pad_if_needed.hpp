// staticnet/augment/pad_if_needed.hpp: PadIfNeeded (albumentations 1.3).
//
//   PadIfNeeded{.min_height = 40, .min_width = 40, .border_mode = augment::BORDER_CONSTANT, .value = 0}
//
// Pads a side shorter than min_height / min_width up to it (or, with
// min_* unset and pad_*_divisor set, up to the next multiple of the divisor),
// as cv2.copyMakeBorder(img, top, bottom, left, right, border_mode, value=value)
// would: with position CENTER, top = (min_height - height) / 2 rounded down and
// bottom the rest (likewise left / right); the corner positions put all the
// padding on the other two sides. No random draws besides the p coin (p = 1
// by default). value is per channel or one number for all (cv2 given a plain
// number fills only the first channel; here every channel).
// (albumentations' later PositionType.RANDOM is not provided.)
#pragma once
#include <cstdint>
#include <cstring>
#include <utility>
#include <optional>
#include <string>

#include "border.hpp"
#include "image.hpp"
#include "params.hpp"
#include "random.hpp"
#include "transform.hpp"

namespace staticnet::augment {

namespace functional {
/// F.pad_with_params: cv2.copyMakeBorder into dst (dst must not be src).
inline void pad_with_params(const image& src, image& dst, int top, int bottom, int left, int right,
                            border border_mode = BORDER_REFLECT_101, const channel_values& value = {}) {
  if (&src == &dst) detail::invalid("pad_with_params", "dst must not be src");
  if (top < 0 || bottom < 0 || left < 0 || right < 0) detail::invalid("pad_with_params", "padding must be >= 0");
  if (!is_valid(border_mode)) detail::invalid("pad_with_params", "unknown border mode");
  detail::check_fits("pad_with_params", "value", value, src.channels);
  const int cn = src.channels, h = src.height, w = src.width;
  std::uint8_t cval[4] = {};
  for (int k = 0; k < cn; ++k) cval[k] = detail::saturate_u8(value[k]);
  dst.reset(h + top + bottom, w + left + right, cn);
  const auto ucn = static_cast<std::size_t>(cn);
  auto put = [&](std::uint8_t* out, int sy, int x) {  // output column x of a row reading source row sy
    const int sx = border_interpolate(x - left, w, border_mode);
    std::memcpy(out, sx < 0 ? cval : src.pixel(sy, sx), ucn);
  };
  for (int y = 0; y < dst.height; ++y) {
    const int sy = border_interpolate(y - top, h, border_mode);
    std::uint8_t* out = dst.pixel(y, 0);
    if (sy < 0) {  // a constant row
      for (int x = 0; x < dst.width; ++x) std::memcpy(out + static_cast<std::size_t>(x) * ucn, cval, ucn);
      continue;
    }
    for (int x = 0; x < left; ++x) put(out + static_cast<std::size_t>(x) * ucn, sy, x);
    std::memcpy(out + static_cast<std::size_t>(left) * ucn, src.pixel(sy, 0), src.row_stride());
    for (int x = left + w; x < dst.width; ++x) put(out + static_cast<std::size_t>(x) * ucn, sy, x);
  }
}
}  // namespace functional

struct PadIfNeeded {
  enum class PositionType { CENTER, TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT };

  std::optional<int> min_height = 1024;
  std::optional<int> min_width = 1024;
  std::optional<int> pad_height_divisor = std::nullopt;
  std::optional<int> pad_width_divisor = std::nullopt;
  PositionType position = PositionType::CENTER;
  border border_mode = BORDER_REFLECT_101;
  channel_values value = 0;
  bool always_apply = false;
  double p = 1.0;
  [[no_unique_address]] detail::validated validated_ = validate();

  struct padding {
    int top = 0, bottom = 0, left = 0, right = 0;
  };

  detail::validated validate() const {
    constexpr const char* t = "PadIfNeeded";
    detail::check_probability(t, p);
    if (min_height.has_value() == pad_height_divisor.has_value())
      detail::invalid(t, "set exactly one of min_height and pad_height_divisor");
    if (min_width.has_value() == pad_width_divisor.has_value())
      detail::invalid(t, "set exactly one of min_width and pad_width_divisor");
    if (min_height && *min_height < 1)
      detail::invalid(t, "min_height must be >= 1, got " + std::to_string(*min_height));
    if (min_width && *min_width < 1) detail::invalid(t, "min_width must be >= 1, got " + std::to_string(*min_width));
    if (pad_height_divisor && *pad_height_divisor < 1)
      detail::invalid(t, "pad_height_divisor must be >= 1, got " + std::to_string(*pad_height_divisor));
    if (pad_width_divisor && *pad_width_divisor < 1)
      detail::invalid(t, "pad_width_divisor must be >= 1, got " + std::to_string(*pad_width_divisor));
    if (static_cast<int>(position) < 0 || static_cast<int>(position) > 4) detail::invalid(t, "unknown position");
    if (!is_valid(border_mode))
      detail::invalid(t, "unknown border_mode " + std::to_string(static_cast<int>(border_mode)));
    detail::check_pixel_values(t, "value", value);
    return {};
  }

  /// update_params: the padding of a rows x cols image.
  [[nodiscard]] padding get_padding(int rows, int cols) const {
    padding q;
    auto split = [](int total, int& first, int& second) {
      first = total / 2;  // int((min - size) / 2.0), total >= 0
      second = total - first;
    };
    if (min_height) {
      if (rows < *min_height) split(*min_height - rows, q.top, q.bottom);
    } else {
      const int rem = rows % *pad_height_divisor;
      split(rem > 0 ? *pad_height_divisor - rem : 0, q.top, q.bottom);
    }
    if (min_width) {
      if (cols < *min_width) split(*min_width - cols, q.left, q.right);
    } else {
      const int rem = cols % *pad_width_divisor;
      split(rem > 0 ? *pad_width_divisor - rem : 0, q.left, q.right);
    }
    switch (position) {
      case PositionType::CENTER: break;
      case PositionType::TOP_LEFT: q = {0, q.top + q.bottom, 0, q.left + q.right}; break;
      case PositionType::TOP_RIGHT: q = {0, q.top + q.bottom, q.left + q.right, 0}; break;
      case PositionType::BOTTOM_LEFT: q = {q.top + q.bottom, 0, 0, q.left + q.right}; break;
      case PositionType::BOTTOM_RIGHT: q = {q.top + q.bottom, 0, q.left + q.right, 0}; break;
    }
    return q;
  }

  bool run(image& img, image& scratch, rng_type& rng) const {
    if (!detail::draws_apply(*this, rng)) return false;
    const padding q = get_padding(img.height, img.width);
    if (q.top == 0 && q.bottom == 0 && q.left == 0 && q.right == 0) return true;
    functional::pad_with_params(img, scratch, q.top, q.bottom, q.left, q.right, border_mode, value);
    std::swap(img, scratch);
    return true;
  }
  [[nodiscard]] image apply(const image& in, rng_type& rng) const {
    validate();
    return detail::apply_copy(*this, in, rng);
  }
  void output_dims(int& h, int& w, int&) const {
    const padding q = get_padding(h, w);
    h += q.top + q.bottom;
    w += q.left + q.right;
  }
};

}  // namespace staticnet::augment

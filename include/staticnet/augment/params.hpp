// staticnet/augment/params.hpp: parameter types shared by the transforms.
//
//   limit           a range given as one number v (meaning [-v, v]) or {low, high},
//                   like albumentations' to_tuple
//   channel_values  one value for every channel, or one per channel ({r, g, b})
//
// and the validation helpers behind the transforms' std::invalid_argument messages.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>

namespace staticnet::augment {

/// A sampling range: `45` means [-45, 45] (albumentations' to_tuple of a
/// number), `{90, 90}` the single value 90, `{0.0, 0.1}` [0, 0.1].
struct limit {
  double low = 0;
  double high = 0;
  constexpr limit(double v) noexcept : low(-v), high(v) {}  // NOLINT: implicit on purpose (`.rotate_limit = 15`)
  constexpr limit(double lo, double hi) noexcept : low(lo), high(hi) {}
};

/// A value per channel: a number applies to every channel (`.value = 0`), a
/// list gives one per channel (`.fill_value = {125, 123, 114}`, 1 to 4 entries).
struct channel_values {
  std::array<double, 4> values{};
  int count = 1;

  constexpr channel_values() noexcept = default;
  constexpr channel_values(double v) noexcept : values{v, v, v, v} {}  // NOLINT: implicit on purpose
  constexpr channel_values(std::initializer_list<double> list) : count(static_cast<int>(list.size())) {
    if (list.size() < 1 || list.size() > 4)
      throw std::invalid_argument("staticnet::augment::channel_values: give 1 to 4 values (got " +
                                  std::to_string(list.size()) + ")");
    int k = 0;
    for (double v : list) values[static_cast<std::size_t>(k++)] = v;
    for (; k < 4; ++k) values[static_cast<std::size_t>(k)] = values[0];
  }
  /// The value of channel k (the single value when one was given).
  [[nodiscard]] constexpr double operator[](int k) const noexcept {
    return count == 1 ? values[0] : values[static_cast<std::size_t>(k)];
  }
  /// Whether it can serve an image with `channels` channels.
  [[nodiscard]] constexpr bool fits(int channels) const noexcept { return count == 1 || count == channels; }
};

namespace detail {

/// Marker member that makes every transform validate its parameters when it is
/// constructed (the transforms are aggregates, for designated initialisers, so
/// they cannot have a constructor; the default initialiser of this last member
/// runs after all the others are set).
struct validated {};

inline std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

[[noreturn]] inline void invalid(const char* transform, const std::string& what) {
  throw std::invalid_argument(std::string("staticnet::augment::") + transform + ": " + what);
}

inline void check_probability(const char* transform, double p) {
  if (!(p >= 0.0 && p <= 1.0)) invalid(transform, "p must be in [0, 1], got " + fmt(p));
}

inline void check_finite(const char* transform, const char* name, limit l) {
  if (!std::isfinite(l.low) || !std::isfinite(l.high))
    invalid(transform, std::string(name) + " must be finite, got (" + fmt(l.low) + ", " + fmt(l.high) + ")");
}

/// Pixel values (fill / border values) must be in [0, 255].
inline void check_pixel_values(const char* transform, const char* name, const channel_values& v) {
  for (int k = 0; k < v.count; ++k)
    if (!(v[k] >= 0.0 && v[k] <= 255.0))
      invalid(transform, std::string(name) + " must be in [0, 255] (pixel units), got " + fmt(v[k]) +
                             (v.count > 1 ? " for channel " + std::to_string(k) : std::string()));
}

inline void check_fits(const char* transform, const char* name, const channel_values& v, int channels) {
  if (!v.fits(channels))
    invalid(transform, std::string(name) + " has " + std::to_string(v.count) + " values but the image has " +
                           std::to_string(channels) + " channel" + (channels == 1 ? "" : "s"));
}

/// OpenCV's saturate_cast<uchar>(double): round half to even, clamp to [0, 255].
inline std::uint8_t saturate_u8(double v) noexcept {
  if (!(v > 0.0)) return 0;
  if (v >= 255.0) return 255;
  return static_cast<std::uint8_t>(std::nearbyint(v));
}

}  // namespace detail
}  // namespace staticnet::augment

// staticnet/core/shape.hpp: activation shapes (per sample, batch excluded).
#pragma once
#include <cstdint>

namespace staticnet {

/// The shape of one sample's activation: C x H x W, or a flat vector of C
/// features after Flatten / Linear (then h = w = 1 and flat = true).
struct shape {
  int c = 0;
  int h = 1;
  int w = 1;
  bool flat = false;

  [[nodiscard]] constexpr std::int64_t numel() const noexcept {
    return std::int64_t{c} * h * w;
  }
  [[nodiscard]] constexpr std::int64_t positions() const noexcept { return std::int64_t{h} * w; }
  friend constexpr bool operator==(const shape&, const shape&) = default;
};

/// The network input: C channels of H x W pixels. First type of a Network.
/// Sizes <= 0 are reported by the network's plan (E_INPUT), as every error is.
template <int C, int H, int W>
struct Input {
  static constexpr shape value{C, H, W, false};
};

template <class T>
inline constexpr bool is_input = false;
template <int C, int H, int W>
inline constexpr bool is_input<Input<C, H, W>> = true;

}  // namespace staticnet

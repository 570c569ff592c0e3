// staticnet/layers/padding.hpp: ZeroPad2d and Identity.
#pragma once
#include "../core/op.hpp"
#include "../core/options.hpp"

namespace staticnet {

namespace detail {
constexpr pad to_pad(int all) noexcept { return pad{all, all, all, all}; }
constexpr pad to_pad(pad p) noexcept { return p; }
}  // namespace detail

/// torch.nn.ZeroPad2d: zeros around every plane; no parameters, receptive
/// field and jump unchanged. `ZeroPad2d<1>` pads 1 on every side;
/// `ZeroPad2d<pad{.left = 1, .right = 0, .top = 1, .bottom = 0}>` is
/// nn.ZeroPad2d((1, 0, 1, 0)). Negative values crop, as in PyTorch.
template <auto P>
struct ZeroPad2d {
  static constexpr pad options = detail::to_pad(P);
  static constexpr op_desc desc{.kind = op_kind::zero_pad, .zp = options};
};

/// torch.nn.Identity: output = input, no parameters (a placeholder layer).
struct Identity {
  static constexpr op_desc desc{.kind = op_kind::identity};
};

}  // namespace staticnet

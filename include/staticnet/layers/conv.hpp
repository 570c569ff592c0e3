// staticnet/layers/conv.hpp: Conv2d, DepthwiseConv2d, PointwiseConv2d, SeparableConv2d.
#pragma once
#include "../core/op.hpp"
#include "../core/options.hpp"
#include "../core/topology.hpp"

namespace staticnet {

/// torch.nn.Conv2d. Input channels come from the previous layer.
///   Conv2d<conv{.out = 64, .kernel = 3, .padding = 1}>
template <conv C>
struct Conv2d {
  static constexpr conv options = C;
  static constexpr op_desc desc{.kind = op_kind::conv, .c = C};
};

/// A depthwise conv: groups = input channels; `.out` is 0 (same channels) or
/// a multiple of the input channels (depth multiplier). `.groups` is ignored.
///   DepthwiseConv2d<conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>
template <conv C>
struct DepthwiseConv2d {
  static constexpr conv options = C;
  static constexpr op_desc desc{.kind = op_kind::conv, .c = C, .depthwise = true};
};

/// A 1x1 conv: `PointwiseConv2d<64>` (bias on, as in PyTorch) or `PointwiseConv2d<64, false>`.
template <int Out, bool Bias = true>
using PointwiseConv2d = Conv2d<conv{.out = Out, .kernel = 1, .bias = Bias}>;

/// A depthwise-separable conv: DepthwiseConv2d then a 1x1 Conv2d.
///   SeparableConv2d<sep{.out = 64, .padding = 1}>
template <sep S>
using SeparableConv2d =
    Sequential<DepthwiseConv2d<conv{.kernel = S.kernel,
                                    .stride = S.stride,
                                    .padding = S.padding,
                                    .dilation = S.dilation,
                                    .bias = S.depthwise_bias}>,
               Conv2d<conv{.out = S.out, .kernel = 1, .bias = S.bias}>>;

}  // namespace staticnet

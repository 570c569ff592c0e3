// staticnet/layers/pooling.hpp: MaxPool2d, AvgPool2d, GlobalAvgPool (AdaptiveAvgPool2d<1>).
#pragma once
#include "../core/op.hpp"
#include "../core/options.hpp"

namespace staticnet {

/// torch.nn.MaxPool2d. MaxPool2d<> is 2x2 with stride 2. One window over the
/// whole map (no padding or dilation) is global pooling (see AvgPool2d).
template <pool P = pool{}>
struct MaxPool2d {
  static constexpr pool options = P;
  static constexpr op_desc desc{.kind = op_kind::maxpool, .p = P};
};

/// torch.nn.AvgPool2d. AvgPool2d<> is 2x2 with stride 2. On a k x k map,
/// AvgPool2d<pool{.kernel = k}> is global average pooling: the rules, facts
/// and tables count it as GlobalAvgPool (no receptive-field step, no stride).
template <pool P = pool{}>
struct AvgPool2d {
  static constexpr pool options = P;
  static constexpr op_desc desc{.kind = op_kind::avgpool, .p = P};
};

/// torch.nn.AdaptiveAvgPool2d(1): C x H x W -> C x 1 x 1.
struct GlobalAvgPool {
  static constexpr op_desc desc{.kind = op_kind::global_avgpool};
};

namespace detail {
template <int OutputSize>
struct adaptive_avg_pool {
  static_assert(OutputSize == 1,
                "staticnet [E_ADAPTIVE_POOL]: AdaptiveAvgPool2d<N>: only N = 1 (global average pooling) "
                "is supported");
  using type = GlobalAvgPool;
};
}  // namespace detail

/// torch.nn.AdaptiveAvgPool2d(1) under its PyTorch name: the same type as GlobalAvgPool.
template <int OutputSize>
using AdaptiveAvgPool2d = typename detail::adaptive_avg_pool<OutputSize>::type;

}  // namespace staticnet

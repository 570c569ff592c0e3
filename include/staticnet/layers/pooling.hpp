// staticnet/layers/pooling.hpp: MaxPool2d, AvgPool2d, GlobalAvgPool.
#pragma once
#include "../core/op.hpp"
#include "../core/options.hpp"

namespace staticnet {

/// torch.nn.MaxPool2d. MaxPool2d<> is 2x2 with stride 2.
template <pool P = pool{}>
struct MaxPool2d {
  static constexpr pool options = P;
  static constexpr op_desc desc{.kind = op_kind::maxpool, .p = P};
};

/// torch.nn.AvgPool2d. AvgPool2d<> is 2x2 with stride 2.
template <pool P = pool{}>
struct AvgPool2d {
  static constexpr pool options = P;
  static constexpr op_desc desc{.kind = op_kind::avgpool, .p = P};
};

/// torch.nn.AdaptiveAvgPool2d(1): C x H x W -> C x 1 x 1.
struct GlobalAvgPool {
  static constexpr op_desc desc{.kind = op_kind::global_avgpool};
};

}  // namespace staticnet

// staticnet/layers/batchnorm.hpp: BatchNorm2d.
#pragma once
#include "../core/op.hpp"

namespace staticnet {

/// torch.nn.BatchNorm2d over the input's channels (eps 1e-5, momentum 0.1,
/// affine). 2*C trainable parameters (weight, bias) and 2*C buffers
/// (running_mean, running_var).
struct BatchNorm2d {
  static constexpr op_desc desc{.kind = op_kind::batchnorm};
};

}  // namespace staticnet

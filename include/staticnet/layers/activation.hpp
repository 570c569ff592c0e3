// staticnet/layers/activation.hpp: ReLU and LogSoftmax.
#pragma once
#include "../core/op.hpp"

namespace staticnet {

/// torch.nn.ReLU.
struct ReLU {
  static constexpr op_desc desc{.kind = op_kind::relu};
};

/// torch.nn.LogSoftmax(dim = 1): over the channels / features.
struct LogSoftmax {
  static constexpr op_desc desc{.kind = op_kind::log_softmax};
};

}  // namespace staticnet

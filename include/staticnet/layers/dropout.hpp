// staticnet/layers/dropout.hpp: Dropout.
#pragma once
#include "../core/op.hpp"
#include "../core/options.hpp"

namespace staticnet {

/// torch.nn.Dropout (inverted dropout; identity in eval mode).
///   Dropout<p(0.1)>; Dropout<> has PyTorch's default p = 0.5.
template <probability P = probability{}>
struct Dropout {
  static constexpr probability rate = P;
  static constexpr op_desc desc{.kind = op_kind::dropout, .drop = P};
};

}  // namespace staticnet

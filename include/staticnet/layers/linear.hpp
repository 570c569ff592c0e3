// staticnet/layers/linear.hpp: Flatten and Linear.
#pragma once
#include "../core/op.hpp"
#include "../core/options.hpp"

namespace staticnet {

/// torch.nn.Flatten: C x H x W -> a flat vector of C*H*W features.
struct Flatten {
  static constexpr op_desc desc{.kind = op_kind::flatten};
};

/// torch.nn.Linear on a flat input: Linear<linear{.out = 10}>.
template <linear L>
struct Linear {
  static constexpr linear options = L;
  static constexpr op_desc desc{.kind = op_kind::linear, .l = L};
};

}  // namespace staticnet

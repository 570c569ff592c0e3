// The small network the checkpoint fuzz target loads into (and whose
// checkpoints seed its corpus).
#pragma once
#include <staticnet/core.hpp>

namespace fuzz {
namespace sn = staticnet;
using Net = sn::Network<sn::Input<1, 4, 4>, sn::Block<"C1", sn::Conv2d<sn::conv{.out = 2, .kernel = 3, .padding = 1}>,
                                                        sn::BatchNorm2d, sn::ReLU, sn::Dropout<>>,
                        sn::GlobalAvgPool, sn::Flatten, sn::Linear<sn::linear{.out = 3}>, sn::LogSoftmax>;
}  // namespace fuzz

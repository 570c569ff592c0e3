// tests/compile_fail/net100/net100.hpp: the 100-layer network of the compile-cost
// benchmark (bench/compile_cost/generate.py --layers 100: 24 depthwise-separable
// units in blocks C1..C4 with Residual and Add branches, then O = GAP + 1x1 conv,
// Flatten, LogSoftmax; 3 x 32 x 32 in, 10 classes out), split at its blocks so
// that a test can put a mistake in the middle of it (`Middle`, between C2 and
// C3, where the map is 32 x 32 x 32), replace its head (`Tail`) or its input.
// The tests of this folder check that every error about such a network fits
// on a screen: 2 KB, whatever the size of the network's type.
#pragma once
#include <staticnet/core.hpp>

namespace sn = staticnet;

namespace net100 {

using C1 = sn::Block<"C1",
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 24, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>, sn::Conv2d<sn::conv{.out = 24, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 24, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Add<sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 3, .dilation = 3, .bias = false}>, sn::Conv2d<sn::conv{.out = 24, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>, sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 24, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 24, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>;
using C2 = sn::Block<"C2",
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 4, .dilation = 4, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 32, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 32, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 32, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Add<sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 32, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>, sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 3, .dilation = 3, .bias = false}>, sn::Conv2d<sn::conv{.out = 32, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 32, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>;
using C3 = sn::Block<"C3",
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 40, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 4, .dilation = 4, .bias = false}>, sn::Conv2d<sn::conv{.out = 40, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 40, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Add<sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>, sn::Conv2d<sn::conv{.out = 40, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>, sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 40, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 3, .dilation = 3, .bias = false}>, sn::Conv2d<sn::conv{.out = 40, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>;
using C4 = sn::Block<"C4",
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 48, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 48, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>,
    sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 4, .dilation = 4, .bias = false}>,
    sn::Conv2d<sn::conv{.out = 48, .kernel = 1}>,
    sn::BatchNorm2d,
    sn::ReLU,
    sn::Add<sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 48, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>, sn::Sequential<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 2, .dilation = 2, .bias = false}>, sn::Conv2d<sn::conv{.out = 48, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>,
    sn::Residual<sn::DepthwiseConv2d<sn::conv{.kernel = 3, .padding = 1, .bias = false}>, sn::Conv2d<sn::conv{.out = 48, .kernel = 1}>, sn::BatchNorm2d, sn::ReLU>>;

/// The head of the network: block O (global average pooling, 1x1 conv to 10
/// classes), Flatten, LogSoftmax.
using Head = sn::Sequential<sn::Block<"O", sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .kernel = 1}>>,
                            sn::Flatten, sn::LogSoftmax>;

/// The 100-layer network, with `Middle` between C2 and C3 (layers 1-48 before
/// it) and `Tail` as its head.
template <class Middle = sn::Sequential<>, class Tail = Head, class In = sn::Input<3, 32, 32>>
using Net = sn::Network<In, C1, C2, Middle, C3, C4, Tail>;

}  // namespace net100

// MinSeparableConvs<1>: the depthwise conv is followed by a 3x3 conv, not a 1x1 conv.
// expect: R_SEPARABLE_CONVS
// expect: fewer than N depthwise-separable convolutions
// expect: verify<1, 0>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::DepthwiseConv2d<sn::conv{}>, sn::ReLU, sn::Conv2d<sn::conv{.out = 4}>>;
static_assert(sn::check<Net, sn::rules::MinSeparableConvs<1>>);

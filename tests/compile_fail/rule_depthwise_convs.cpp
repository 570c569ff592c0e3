// MinDepthwiseConvs<2> on a network with one depthwise conv.
// expect: R_DEPTHWISE_CONVS
// expect: fewer than N depthwise convolutions
// expect: verify<1, 1>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::DepthwiseConv2d<sn::conv{.padding = 1}>, sn::Conv2d<sn::conv{.out = 4}>>;
static_assert(sn::check<Net, sn::rules::MinDepthwiseConvs<2>>);

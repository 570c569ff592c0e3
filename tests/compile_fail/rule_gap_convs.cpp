// GapToClasses<10, 1>: two 1x1 convs after the global average pooling.
// expect: R_GAP_CONVS
// expect: more convs after the global average pooling than allowed
// expect: verify<4, 2>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::GlobalAvgPool, sn::PointwiseConv2d<16>, sn::ReLU, sn::PointwiseConv2d<10>>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10, 1>>);

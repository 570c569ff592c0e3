// GapToClasses<10>: the conv after the global average pooling (layer 3) is 3x3.
// expect: R_GAP_CONV
// expect: a conv after the global average pooling is not 1x1
// expect: verify<3, 3>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::GlobalAvgPool, sn::Conv2d<sn::conv{.out = 10, .padding = 1}>, sn::Flatten>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10>>);

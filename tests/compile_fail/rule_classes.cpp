// GapToClasses<10>: the network ends in 8 outputs.
// expect: R_CLASSES
// expect: the output does not have one element per class
// expect: verify<5, 8>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::GlobalAvgPool, sn::PointwiseConv2d<8>, sn::Flatten>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10>>);

// GapToClasses<10> on a network without global average pooling.
// expect: R_GAP_MISSING
// expect: the network has no global pooling
// expect: verify<1, 0>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 10, .kernel = 8}>, sn::Flatten>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10>>);

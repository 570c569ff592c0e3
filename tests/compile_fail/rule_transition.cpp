// TransitionsTo<4>: the max pool (layer 2) is followed by a 1x1 conv to 8 channels, not 4.
// expect: R_TRANSITION
// expect: a max pool is not directly followed by a 1x1 conv to C channels
// expect: verify<1, 2>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::MaxPool2d<>, sn::PointwiseConv2d<8>>;
static_assert(sn::check<Net, sn::rules::TransitionsTo<4>>);

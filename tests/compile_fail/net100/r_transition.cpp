// TransitionsTo<32> on the 100-layer network with a MaxPool2d (layer 49) followed by a depthwise conv.
// expect: R_TRANSITION
// expect: TransitionsTo<32>::verify<1, 49>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::MaxPool2d<>>;
static_assert(sn::check<Net, sn::rules::TransitionsTo<32>>);

// ConvBlocks<4, 3> on the 100-layer network (C1 has 6 conv layers: 12 convs in depthwise-separable pairs).
// expect: R_BLOCK_CONVS
// expect: ConvBlocks<4, 3>::verify<2, 1006>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::ConvBlocks<4, 3>>);

// exercises::S9 on the 100-layer network: only ConvBlocks<4, 3> breaks (C1 has 6 conv layers: 12 convs in depthwise-separable pairs).
// expect: R_BLOCK_CONVS
// expect: ConvBlocks<4, 3>::verify<2, 1006>
// expect: staticnet::rules::all<staticnet::rules::ConvBlocks<4, 3>, staticnet::rules::ParamsBelow<200000>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::exercises::S9>);

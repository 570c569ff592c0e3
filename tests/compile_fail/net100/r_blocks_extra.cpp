// ConvBlocks<3> on the 100-layer network (C1..C4).
// expect: R_BLOCKS_EXTRA
// expect: ConvBlocks<3
// expect: ::verify<3, 4>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::ConvBlocks<3>>);

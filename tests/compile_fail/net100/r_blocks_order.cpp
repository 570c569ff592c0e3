// ConvBlocks<5> on the 100-layer network (C1..C4: C5 is missing).
// expect: R_BLOCKS_ORDER
// expect: ConvBlocks<5
// expect: ::verify<1, 5>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::ConvBlocks<5>>);

// GapToClasses<10, 0> on the 100-layer network (one 1x1 conv after the GAP).
// expect: R_GAP_CONVS
// expect: GapToClasses<10, 0>::verify<4, 1>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::GapToClasses<10, 0>>);

// MinSeparableConvs<25> on the 100-layer network (24).
// expect: R_SEPARABLE_CONVS
// expect: MinSeparableConvs<25>::verify<1, 24>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::MinSeparableConvs<25>>);

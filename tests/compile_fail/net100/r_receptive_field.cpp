// ReceptiveFieldAbove<100> on the 100-layer network (receptive field 79).
// expect: R_RECEPTIVE_FIELD
// expect: ReceptiveFieldAbove<100>::verify<1, 79>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::ReceptiveFieldAbove<100>>);

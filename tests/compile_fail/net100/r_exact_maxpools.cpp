// ExactMaxPools<1> on the 100-layer network (no max pool).
// expect: R_EXACT_MAXPOOLS
// expect: ExactMaxPools<1>::verify<1, 0>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::ExactMaxPools<1>>);

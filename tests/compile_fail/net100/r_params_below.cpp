// ParamsBelow<40000> on the 100-layer network (42,013 parameters).
// expect: R_PARAMS_BELOW
// expect: ParamsBelow<40000>::verify<1, 42013>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::ParamsBelow<40'000>>);

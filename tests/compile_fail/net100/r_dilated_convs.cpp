// MinDilatedConvs<11> on the 100-layer network (10 dilated convs).
// expect: R_DILATED_CONVS
// expect: MinDilatedConvs<11>::verify<1, 10>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<>;
static_assert(sn::check<Net, sn::rules::MinDilatedConvs<11>>);

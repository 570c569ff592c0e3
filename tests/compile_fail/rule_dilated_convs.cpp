// MinDilatedConvs<1> on a network without a dilated conv.
// expect: R_DILATED_CONVS
// expect: fewer than N dilated convolutions
// expect: verify<1, 0>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>>;
static_assert(sn::check<Net, sn::rules::MinDilatedConvs<1>>);

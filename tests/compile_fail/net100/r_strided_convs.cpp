// MaxStridedConvs<0> on the 100-layer network with a 3x3 stride-2 conv (layer 49).
// expect: R_STRIDED_CONVS
// expect: MaxStridedConvs<0>::verify<1, 1>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 32, .stride = 2, .padding = 1}>>;
static_assert(sn::check<Net, sn::rules::MaxStridedConvs<0>>);

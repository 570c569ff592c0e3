// MaxStridedConvs<3> on the 100-layer network with a 1x1 stride-2 conv (layer 49).
// expect: R_STRIDED_KERNEL
// expect: MaxStridedConvs<3>::verify<2, 49>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 32, .kernel = 1, .stride = 2}>>;
static_assert(sn::check<Net, sn::rules::MaxStridedConvs<3>>);

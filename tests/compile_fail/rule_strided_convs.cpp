// MaxStridedConvs<1> on a network with two 3x3 stride-2 convs.
// expect: R_STRIDED_CONVS
// expect: more than N strided convs
// expect: verify<1, 2>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 16, 16>, sn::Conv2d<sn::conv{.out = 4, .stride = 2}>, sn::Conv2d<sn::conv{.out = 4, .stride = 2}>>;
static_assert(sn::check<Net, sn::rules::MaxStridedConvs<1>>);

// MaxStridedConvs<3>: layer 3 is a 1x1 conv with stride 2 (strided convs must be 3x3).
// expect: R_STRIDED_KERNEL
// expect: a strided conv is not 3x3
// expect: verify<2, 3>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 16, 16>, sn::Conv2d<sn::conv{.out = 4, .stride = 2}>, sn::ReLU,
                        sn::Conv2d<sn::conv{.out = 4, .kernel = 1, .stride = 2}>>;
static_assert(sn::check<Net, sn::rules::MaxStridedConvs<3>>);

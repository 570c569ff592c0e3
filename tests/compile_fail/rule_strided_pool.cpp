// NoStridedPool on a network that downsamples with an average pool.
// expect: R_STRIDED_POOL
// expect: a pooling layer downsamples
// expect: verify<1, 1>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .padding = 1}>, sn::AvgPool2d<>>;
static_assert(sn::check<Net, sn::rules::NoStridedPool>);

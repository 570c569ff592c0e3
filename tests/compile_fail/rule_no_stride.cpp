// NoStride on a network with a stride-2 conv.
// expect: R_NO_STRIDE
// expect: a conv or pooling layer has a stride above 1
// expect: verify<1, 1>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .stride = 2}>>;
static_assert(sn::check<Net, sn::rules::NoStride>);

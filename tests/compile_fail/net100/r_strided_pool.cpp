// NoStridedPool on the 100-layer network with a MaxPool2d (layer 49).
// expect: R_STRIDED_POOL
// expect: NoStridedPool::verify<1, 1>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::MaxPool2d<>>;
static_assert(sn::check<Net, sn::rules::NoStridedPool>);

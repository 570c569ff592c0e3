// NoMaxPool on a network with one max pool.
// expect: R_NO_MAXPOOL
// expect: the network uses max pooling
// expect: verify<1, 1>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4}>, sn::MaxPool2d<>>;
static_assert(sn::check<Net, sn::rules::NoMaxPool>);

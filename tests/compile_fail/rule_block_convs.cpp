// ConvBlocks<2, 2>: C1 has two conv layers, C2 only one (1000 * block + conv layers = 2001).
// expect: R_BLOCK_CONVS
// expect: a block does not have the required number of conv layers
// expect: verify<2, 2001>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 16, 16>, sn::Block<"C1", sn::Conv2d<sn::conv{.out = 4}>, sn::Conv2d<sn::conv{.out = 4}>>,
                        sn::Block<"C2", sn::Conv2d<sn::conv{.out = 4}>>>;
static_assert(sn::check<Net, sn::rules::ConvBlocks<2, 2>>);

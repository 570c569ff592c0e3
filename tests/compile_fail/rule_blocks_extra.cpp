// ConvBlocks<2>: blocks C1, C2 and C4 (C4 is beyond the allowed two).
// expect: R_BLOCKS_EXTRA
// expect: more C blocks than allowed
// expect: verify<3, 4>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 16, 16>, sn::Block<"C1", sn::Conv2d<sn::conv{.out = 4}>>, sn::Block<"C2", sn::Conv2d<sn::conv{.out = 4}>>, sn::Block<"C4", sn::Conv2d<sn::conv{.out = 4}>>>;
static_assert(sn::check<Net, sn::rules::ConvBlocks<2>>);

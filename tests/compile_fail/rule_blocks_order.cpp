// ConvBlocks<3>: blocks C1 and C3, C2 is missing (the first missing index is 2).
// expect: R_BLOCKS_ORDER
// expect: blocks C1..CN are missing or out of order
// expect: verify<1, 2>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Block<"C1", sn::Conv2d<sn::conv{.out = 4}>>, sn::Block<"C3", sn::Conv2d<sn::conv{.out = 4}>>>;
static_assert(sn::check<Net, sn::rules::ConvBlocks<3>>);

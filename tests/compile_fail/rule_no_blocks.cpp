// BranchesInEveryBlock on a network with no C blocks at all must not pass vacuously.
// expect: R_NO_BLOCKS
// expect: no top-level blocks
// expect: verify<2, 0>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Residual<sn::Conv2d<sn::conv{.out = 3, .padding = 1}>>>;
static_assert(sn::check<Net, sn::rules::BranchesInEveryBlock>);

// BranchesInEveryBlock on the 100-layer network with its blocks C1..C4 inside a block "A":
// there is no top-level C block.
// expect: R_NO_BLOCKS
// expect: BranchesInEveryBlock::verify<2, 0>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = sn::Network<sn::Input<3, 32, 32>, sn::Block<"A", net100::C1, net100::C2, net100::C3, net100::C4>,
                        net100::Head>;
static_assert(sn::check<Net, sn::rules::BranchesInEveryBlock>);

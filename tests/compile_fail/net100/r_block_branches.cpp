// BranchesInEveryBlock on the 100-layer network with a block C5 (one ReLU) between C2 and C3.
// expect: R_BLOCK_BRANCHES
// expect: BranchesInEveryBlock::verify<1, 5>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Block<"C5", sn::ReLU>>;
static_assert(sn::check<Net, sn::rules::BranchesInEveryBlock>);

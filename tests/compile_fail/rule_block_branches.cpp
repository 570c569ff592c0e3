// BranchesInEveryBlock: C1 holds an Add, C2 has no parallel branches.
// expect: R_BLOCK_BRANCHES
// expect: a C block has no parallel branches
// expect: verify<1, 2>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Block<"C1", sn::Residual<sn::ReLU>>, sn::Block<"C2", sn::ReLU>>;
static_assert(sn::check<Net, sn::rules::BranchesInEveryBlock>);

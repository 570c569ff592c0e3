// An Add with a single branch.
// expect: E_BRANCH_COUNT
// expect: need at least two branches
// expect: too_few_branches<staticnet::Add<staticnet::ReLU>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Add<sn::ReLU>>;
constexpr auto n = sn::param_count<Net>;

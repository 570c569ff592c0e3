// An Add with one branch between C2 and C3.
// expect: E_BRANCH_COUNT
// expect: invalid_layer<49, staticnet::detail::too_few_branches<staticnet::Add<staticnet::ReLU>
// expect: staticnet::error::branch_count
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Add<sn::ReLU>>;
constexpr auto n = sn::param_count<Net>;

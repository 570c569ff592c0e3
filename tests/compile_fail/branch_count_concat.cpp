// A Concat with a single branch.
// expect: E_BRANCH_COUNT
// expect: Concat needs at least two branches
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Concat<sn::ReLU>>;
constexpr auto n = sn::param_count<Net>;

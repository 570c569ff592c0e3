// A grouped conv whose input channels (3) are not divisible by its groups (2).
// expect: E_GROUPS_IN
// expect: input channels are not divisible by groups
// expect: invalid_layer<1,
// expect: staticnet::input<3, 8, 8>
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<3, 8, 8>, sn::Conv2d<sn::conv{.out = 4, .groups = 2}>>;
constexpr auto n = sn::param_count<Net>;

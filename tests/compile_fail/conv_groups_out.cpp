// A grouped conv whose output channels (6) are not divisible by its groups (4), layer 2.
// expect: E_GROUPS_OUT
// expect: output channels are not divisible by groups
// expect: invalid_layer<2,
// max-bytes: 2048
#include <staticnet/core.hpp>
namespace sn = staticnet;
using Net = sn::Network<sn::Input<4, 8, 8>, sn::ReLU, sn::Conv2d<sn::conv{.out = 6, .groups = 4}>>;
constexpr auto n = sn::param_count<Net>;

// A Conv2d with 4 groups and 6 output channels as layer 49.
// expect: E_GROUPS_OUT
// expect: invalid_layer<49, staticnet::Conv2d<
// expect: staticnet::error::groups_out, staticnet::input<32, 32, 32>
// reject: staticnet::Network<
// max-bytes: 2048
#include "net100.hpp"
using Net = net100::Net<sn::Conv2d<sn::conv{.out = 6, .groups = 4}>>;
constexpr auto n = sn::param_count<Net>;
